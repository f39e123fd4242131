package dev.dmalab.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.util.SimClock;
import org.junit.jupiter.api.Test;

/** The printk log: dev_printk prefixes, WARN_ONCE, per-site rate limits (10 per 5 s) and the dmesg format. */
class PrintkTest {
    private final SimClock clock = new SimClock();
    private final Printk log = new Printk(clock);

    @Test
    void ratelimitAllowsTenPerFiveSecondsPerSite() {
        int allowed = 0;
        for (int i = 0; i < 15; i++) {
            if (log.ratelimit("swiotlb_tbl_map_single")) {
                allowed++;
            }
            clock.advanceNs(100_000_000L); // 15 calls over 1.5 s
        }
        assertThat(allowed).isEqualTo(10);
        assertThat(log.suppressed()).isEqualTo(5);
        assertThat(log.ratelimit("another_site")).as("sites are independent").isTrue();

        // The window is measured from its first message (t = 0) and reopens only once time is strictly after
        // begin + interval (___ratelimit: time_is_before_jiffies(rs->begin + rs->interval)): still closed at
        // exactly 5 s, open just after.
        clock.advanceTo(5_000_000_000L);
        assertThat(log.ratelimit("swiotlb_tbl_map_single")).isFalse();
        clock.advanceTo(5_000_000_001L);
        assertThat(log.ratelimit("swiotlb_tbl_map_single")).isTrue();
        assertThat(log.suppressed()).isEqualTo(6);
        // The closing window's suppressions are reported under the caller's name, as ___ratelimit does.
        assertThat(log.lines())
                .extracting(Printk.Line::text)
                .containsExactly("swiotlb_tbl_map_single: 6 callbacks suppressed");
    }

    @Test
    void aSharedRatelimitStateReportsSuppressionsUnderTheCallersName() {
        for (int i = 0; i < 12; i++) {
            log.ratelimit("printk_ratelimit", "swiotlb_tbl_map_single");
        }
        clock.advanceTo(6_000_000_000L);
        assertThat(log.ratelimit("printk_ratelimit", "swiotlb_tbl_map_single")).isTrue();
        assertThat(log.lines())
                .extracting(Printk.Line::text)
                .containsExactly("swiotlb_tbl_map_single: 2 callbacks suppressed");
    }

    @Test
    void warnOncePrintsTheMessageThenTheBannerTheFirstTimeOnly() {
        assertThat(log.warnOnce("site-a", "kernel/dma/direct.h dma_direct_map_page", "nvme 0000:00:03.0: overflow"))
                .isTrue();
        assertThat(log.warnOnce("site-a", "kernel/dma/direct.h dma_direct_map_page", "again"))
                .isFalse();
        assertThat(log.warnOnce("site-b", "kernel/dma/mapping.c dma_alloc_attrs", null))
                .isTrue();
        assertThat(log.lines())
                .extracting(Printk.Line::text)
                .containsExactly(
                        "nvme 0000:00:03.0: overflow",
                        "WARNING: CPU: 0 PID: 1 at kernel/dma/direct.h dma_direct_map_page",
                        "WARNING: CPU: 0 PID: 1 at kernel/dma/mapping.c dma_alloc_attrs");
        assertThat(log.lines()).allMatch(l -> l.level() == Printk.Level.WARNING);
    }

    @Test
    void logOncePrintsItsLineOnceWithoutABanner() {
        assertThat(log.logOnce("report_addr:nomask", Printk.Level.ERR, "dev: DMA map on device without dma_mask"))
                .isTrue();
        assertThat(log.logOnce("report_addr:nomask", Printk.Level.ERR, "dev: again"))
                .isFalse();
        assertThat(log.lines())
                .extracting(Printk.Line::text)
                .containsExactly("dev: DMA map on device without dma_mask");
        assertThat(log.lines().get(0).level()).isEqualTo(Printk.Level.ERR);
    }

    @Test
    void devPrintkPrefixesDriverAndDevice() {
        log.dev(Printk.Level.ERR, "nvme", "0000:00:03.0", "failed");
        log.dev(Printk.Level.INFO, null, "0000:00:04.0", "no driver");
        assertThat(log.lines())
                .extracting(Printk.Line::text)
                .containsExactly("nvme 0000:00:03.0: failed", "0000:00:04.0: no driver");
        assertThat(log.lines().get(0).level()).isEqualTo(Printk.Level.ERR);
    }

    @Test
    void dmesgFormat() {
        clock.advanceNs(1_234_567_890L);
        log.info("hello");
        clock.advanceTo(12_000_001_000L);
        log.err("world");
        assertThat(log.dmesg()).isEqualTo("[    1.234567] hello\n[   12.000001] world\n");
        assertThatThrownBy(() -> log.lines().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> clock.advanceTo(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
