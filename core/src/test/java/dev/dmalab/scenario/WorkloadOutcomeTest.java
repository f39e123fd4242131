package dev.dmalab.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.OopsReport;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The built-in workloads' outcome on every built-in platform and kernel version. */
class WorkloadOutcomeTest {

    static List<Arguments> platformsAndKernels() {
        List<Arguments> out = new ArrayList<>();
        for (String p : Platforms.BUILT_IN) {
            for (KernelVersion v : KernelVersion.builtIn()) {
                out.add(Arguments.of(p, v.name()));
            }
        }
        return out;
    }

    static RunResult run(String workload, String platform, String kernel, String cmdline) {
        Machine m = Machine.boot(
                Platforms.builtIn(platform),
                KernelVersion.parse(kernel),
                Machine.BootOptions.DEFAULT.withCmdline(cmdline));
        return WorkloadRunner.run(Workloads.byName(workload), m, 1);
    }

    static long stale(RunResult r) {
        return r.counters().getOrDefault("stale_bytes", 0L);
    }

    /**
     * arm64 dom0 on 5.0-rc1/rc2: every swiotlb-xen call that needs the device's "native" ops finds NULL — the seed
     * regression. A streaming map gets there first (xen_dma_map_page → ->map_page).
     */
    static boolean seedRegression(String platform, String kernel) {
        return kernel.equals("5.0-rc2")
                && (platform.equals("juno-r2-xen-dom0") || platform.equals("arm64-virt-xen-dom0"));
    }

    /** Platforms whose every device snoops the CPU caches and reaches all RAM (no bounce on the default path). */
    static final List<String> COHERENT_NO_BOUNCE = List.of(
            "x86-q35",
            "x86-q35-vtd",
            "x86-q35-vtd-lazy",
            "x86-q35-vtd-pt",
            "arm64-smmuv3",
            "arm64-virt",
            "juno-r2",
            "juno-r2-xen-dom0",
            "arm64-virt-xen-dom0");

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("platformsAndKernels")
    void streamingRoundtripIsOkEverywhere(String platform, String kernel) {
        org.junit.jupiter.api.Assumptions.assumeFalse(seedRegression(platform, kernel));
        RunResult r = run("streaming-roundtrip", platform, kernel, "");
        assertThat(r.outcome()).as(r.failures().toString()).isEqualTo(Outcome.OK);
        assertThat(r.failures()).isEmpty();
        assertThat(r.oops()).isNull();
        assertThat(stale(r)).isZero();
        assertThat(r.workload()).isEqualTo("streaming-roundtrip");
        assertThat(r.platform()).isEqualTo(platform);
        assertThat(r.kernel()).isEqualTo(kernel);
        assertThat(r.seed()).isEqualTo(1);
        int devices = Platforms.builtIn(platform).devices().size();
        // per device: a TO_DEVICE and a FROM_DEVICE buffer (3000 bytes each) and a 72-byte descriptor exchange
        assertThat(r.counters())
                .containsEntry("bytes_checked", devices * (3000L + 3000L + 72L))
                .containsEntry("dma_map_calls", 2L * devices)
                .containsEntry("dma_unmap_calls", 2L * devices)
                .containsEntry("dma_sync_calls", (long) devices)
                .containsEntry("dma_alloc_calls", (long) devices)
                .containsEntry("dma_free_calls", (long) devices)
                .containsEntry("swiotlb_failed_maps", 0L);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"juno-r2-xen-dom0", "arm64-virt-xen-dom0"})
    void theSeedRegressionAlsoOopsesOnTheFirstStreamingMap(String platform) {
        RunResult r = run("streaming-roundtrip", platform, "5.0-rc2", "");
        assertThat(r.outcome()).isEqualTo(Outcome.OOPS);
        // ->map_page is the 5th member of struct dma_map_ops: offset 4 * 8; dma_map_page_attrs is a header inline
        // in 5.0, so the driver's function is the caller
        assertThat(r.oops().faultAddress()).isEqualTo(0x20);
        assertThat(r.oops().callTrace()).containsExactly("xen_swiotlb_map_page", "dmalab_rt_xmit");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("platformsAndKernels")
    void theMissingSyncShowsOnlyWhereCachesAreNotSnooped(String platform, String kernel) {
        org.junit.jupiter.api.Assumptions.assumeFalse(seedRegression(platform, kernel));
        RunResult r = run("streaming-roundtrip-nosync", platform, kernel, "");
        assertThat(r.counters()).containsEntry("dma_sync_calls", 0L);
        if (COHERENT_NO_BOUNCE.contains(platform)) {
            assertThat(r.outcome()).as(r.failures().toString()).isEqualTo(Outcome.OK);
            assertThat(stale(r)).isZero();
        } else if (platform.equals("x86-xen-pv-dom0")) {
            // coherent, but dom0's pages sit above 4 GiB: the 32-bit e1000's buffer bounces through swiotlb-xen
            assertThat(r.outcome()).isEqualTo(Outcome.FAILED);
            assertThat(r.failures())
                    .singleElement()
                    .asString()
                    .startsWith("0000:00:05.0: the CPU read from 'rx'")
                    .contains("bytes wrong (expected the bytes saved as 'received')");
        } else {
            assertThat(r.outcome()).isEqualTo(Outcome.FAILED);
            assertThat(stale(r)).isPositive();
            assertThat(r.oops()).isNull();
            assertThat(r.failures())
                    .isNotEmpty()
                    .allMatch(f -> f.contains("the CPU read from 'rx'")
                            && f.contains("bytes wrong (expected the bytes saved as 'received'); fix: call"
                                    + " dma_sync_single_for_cpu()"));
        }
    }

    /** x86 snoops, but swiotlb=force leaves the device's data in the bounce buffer until a sync or unmap. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void theMissingSyncFailsOnX86WithSwiotlbForce(String kernel) {
        RunResult r = run("streaming-roundtrip-nosync", "x86-q35", kernel, "swiotlb=force");
        assertThat(r.outcome()).isEqualTo(Outcome.FAILED);
        assertThat(stale(r)).isPositive();
        assertThat(r.failures()).hasSize(Platforms.builtIn("x86-q35").devices().size());
        assertThat(r.counters().get("swiotlb_bounced_events")).isEqualTo(12L);
        // the same workload with the sync is fine under force
        RunResult ok = run("streaming-roundtrip", "x86-q35", kernel, "swiotlb=force");
        assertThat(ok.outcome()).isEqualTo(Outcome.OK);
        assertThat(ok.counters().get("swiotlb_bytes_to_bounce")).isPositive();
        assertThat(ok.counters().get("swiotlb_bytes_from_bounce")).isPositive();
    }

    static List<String> kernels() {
        return KernelVersion.builtIn().stream().map(KernelVersion::name).toList();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("platformsAndKernels")
    void dmaNoneIsABugEverywhere(String platform, String kernel) {
        RunResult r = run("bug-dma-none", platform, kernel, "");
        assertThat(r.outcome()).isEqualTo(Outcome.OOPS);
        OopsReport oops = r.oops();
        assertThat(oops).isNotNull();
        assertThat(oops.kind()).isEqualTo(OopsReport.Kind.BUG);
        assertThat(oops.summary()).startsWith("kernel BUG at ");
        assertThat(oops.comm()).isEqualTo("dmalab-bug");
        assertThat(oops.pid()).isEqualTo(500);
        assertThat(oops.callTrace()).contains("dmalab_bug_probe");
        assertThat(oops.text())
                .startsWith("kernel BUG at " + oops.bugSite() + "!\n")
                .contains("Hardware name: " + Platforms.builtIn(platform).hardwareName())
                .endsWith("---[ end trace 0000000000000000 ]---\n");
        assertThat(oops.release()).startsWith(kernel.replace("-rc2", ""));
        // the BUG fired in the map entry point: the workload never got to complain, nothing was mapped
        assertThat(r.failures()).isEmpty();
        assertThat(r.counters()).containsEntry("dma_map_calls", 0L);
    }

    /** The Oops also lands in the kernel log, as the kernel prints it. */
    @Test
    void theOopsIsLogged() {
        Machine m = Machine.boot(Platforms.builtIn("arm64-virt"), KernelVersion.V6_12);
        RunResult r = WorkloadRunner.run(Workloads.byName("bug-dma-none"), m, 1);
        assertThat(r.oops().callTrace()).startsWith("dma_map_page_attrs", "dmalab_bug_probe");
        assertThat(m.kernel().printk().dmesg())
                .contains("Internal error: Oops - BUG")
                .contains("Call trace:");
    }

    /**
     * Before 5.5 arm64 had no ZONE_DMA: with swiotlb=force the pool sits top-down below ARCH_LOW_ADDRESS_LIMIT
     * (0x7fffffff, so at 0x7bfff000), above the 1 GiB the rpi4 emmc2 bus reaches, so its maps fail (the reason 5.5
     * added ZONE_DMA for this board); 6.12 places the pool in ZONE_DMA. Their coherent descriptors fail too: with only
     * ZONE_DMA32 the page allocator first hands out the order-0 fragments the pool's unaligned reservation left at
     * 0x7bffe000 and 0x7ffff000, and no GFP_DMA retry exists to find a page below 1 GiB.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void rpi4WithSwiotlbForceNeedsZoneDma(String kernel) {
        RunResult r = run("streaming-roundtrip", "rpi4", kernel, "swiotlb=force");
        if (KernelVersion.parse(kernel).has(dev.dmalab.kernel.Feature.ARM64_ZONE_DMA)) {
            assertThat(r.outcome()).as(r.failures().toString()).isEqualTo(Outcome.OK);
        } else {
            assertThat(r.outcome()).isEqualTo(Outcome.FAILED);
            // the two masters behind the 1 GiB legacy bus; GENET and the xHCI reach the pool
            assertThat(r.failures())
                    .containsExactly(
                            "fe340000.mmc: dma_map_single(3000 bytes, DMA_TO_DEVICE) of 'tx' failed",
                            "fe340000.mmc: dma_map_single(3000 bytes, DMA_FROM_DEVICE) of 'rx' failed",
                            "fe340000.mmc: dma_alloc_coherent(256 bytes) for 'desc' failed",
                            "fe980000.usb: dma_map_single(3000 bytes, DMA_TO_DEVICE) of 'tx' failed",
                            "fe980000.usb: dma_map_single(3000 bytes, DMA_FROM_DEVICE) of 'rx' failed",
                            "fe980000.usb: dma_alloc_coherent(256 bytes) for 'desc' failed");
        }
    }

    @Test
    void workloadLookup() {
        assertThat(Workloads.all())
                .extracting(Workload::name)
                .startsWith(
                        "streaming-roundtrip",
                        "streaming-roundtrip-nosync",
                        "bug-dma-none",
                        "xen-dom0-boot",
                        "nic-rx-ring",
                        "nic-rx-ring-nosync",
                        "nvme-io",
                        "usb-small-buffers")
                .contains("check-unmap-wrong-size", "check-unmap-wrong-size-fixed")
                .hasSize(8 + 2 * 28)
                .doesNotHaveDuplicates();
        assertThat(Workloads.all()).allMatch(w -> !w.description().isBlank());
        assertThatThrownBy(() -> Workloads.byName("nope"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown workload 'nope' (built-in: streaming-roundtrip, streaming-roundtrip-nosync,"
                        + " bug-dma-none, xen-dom0-boot, nic-rx-ring, nic-rx-ring-nosync, nvme-io, usb-small-buffers,"
                        + " and the checker corpus check-*: see 'dmalab scenarios')");
        assertThat(Outcome.OOPS.label()).isEqualTo("oops");
    }
}
