# Section "phones_usb": the flash rounds of bench/phones.sh (1, 4, 16, 32
# phones, a 256 MiB flash each, all at once) with every simulated phone's
# link limited to BENCH_LINK_RATE megabytes per second (droidfix-sim serve
# --link-rate), as a phone on a USB cable takes bytes, instead of the
# ~1 GB/s of loopback. Issue 7's target (16 phones in at most 1.5x the time
# of one) is meant for such phones: the host should be idle, not CPU-bound.
#
# The rate, 40 MB/s by default, is an assumption standing for a phone on
# USB 2.0 high-speed, not a measured phone. What bounds it: the bus signals
# at 480 Mbit/s (60 MB/s), and high-speed bulk transfers carry at most 13
# packets of 512 bytes per 125 us microframe, 53 MB/s (USB 2.0 spec,
# chapter 5; table at https://microchip.wikidot.com/usb:frames); CNet's
# tests of USB 2.0 hard drives, cited in Wikipedia's "USB (Communications)",
# read at 30-42 MB/s and write at 25-30 MB/s. That a fastboot download runs
# at 35-40 MB/s is not verified here. USB 3 phones are faster
# (BENCH_LINK_RATE=...).
#
# The play-store-stuck repair rounds are not repeated here: they move a few
# kilobytes per phone, which a link rate does not change.

PH_SECTION=phones_usb
PH_SIM_ARGS="--link-rate ${BENCH_LINK_RATE:-40}"
PH_REPAIR=0
fact phones_usb_rate "${BENCH_LINK_RATE:-40}"
source "$SRC/bench/phones.sh"
