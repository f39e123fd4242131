package dev.dmalab.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.OopsReport;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.testing.Seed;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The seed's boot on every machine with a SiI3132 and every modelled kernel: the 5.0-rc2 arm64 dom0 crashes where
 * and as the report shows; every other combination boots, and the I/O — from dom0's pages and, on Xen, from a
 * guest's granted pages through a blkback-style path — moves exactly the bytes written.
 */
class XenDom0BootTest {
    /** The seed report's call trace (without offsets), innermost first, read from the vendored thread. */
    static final List<String> SEED_TRACE = Seed.callTrace();

    @Test
    void theSeedsCallTraceIsReadFromTheThread() {
        assertThat(SEED_TRACE)
                .hasSize(21)
                .startsWith("xen_swiotlb_alloc_coherent", "dma_alloc_attrs")
                .contains("ata_host_start")
                .endsWith("kernel_init", "ret_from_fork");
    }

    static List<Arguments> machines() {
        List<Arguments> out = new ArrayList<>();
        for (String p : List.of("juno-r2-xen-dom0", "arm32-xen-dom0", "x86-xen-pv-dom0", "juno-r2")) {
            for (KernelVersion v : KernelVersion.builtIn()) {
                out.add(Arguments.of(p, v.name()));
            }
        }
        return out;
    }

    static RunResult boot(String platform, String kernel) {
        Machine m = Machine.boot(Platforms.builtIn(platform), KernelVersion.parse(kernel));
        return WorkloadRunner.run(Workloads.byName("xen-dom0-boot"), m, 1);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("machines")
    void bootsAndMovesTheRightBytesOrCrashesLikeTheSeed(String platform, String kernel) {
        RunResult r = boot(platform, kernel);
        if (platform.equals("juno-r2-xen-dom0") && kernel.equals("5.0-rc2")) {
            assertThat(r.outcome()).isEqualTo(Outcome.OOPS);
            OopsReport o = r.oops();
            assertThat(o.callTrace()).containsExactlyElementsOf(SEED_TRACE);
            assertThat(o.kind()).isEqualTo(OopsReport.Kind.NULL_DEREF);
            assertThat(o.faultAddress())
                    .as("->alloc, the first member of struct dma_map_ops")
                    .isZero();
            assertThat(o.text())
                    .startsWith(
                            "Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000\n")
                    .contains("\npc : xen_swiotlb_alloc_coherent\nlr : dma_alloc_attrs\nCall trace:\n")
                    .contains("Comm: swapper/0")
                    .contains("Hardware name: ARM Juno development board (r2) (DT)")
                    .contains("  Exception class = DABT (current EL), IL = 32 bits\n");
            return;
        }
        assertThat(r.outcome()).as(r.failures().toString()).isEqualTo(Outcome.OK);
        assertThat(r.findings()).isEmpty();
        boolean xen = !platform.equals("juno-r2");
        // dom0's own 8 KiB written and read back; on Xen also a guest page written and one read
        assertThat(r.counters().get("bytes_checked")).isEqualTo(xen ? 8192L + 8192 + 4096 + 4096 : 16384L);
        assertThat(r.counters().get("sata_commands")).isEqualTo(xen ? 4L : 2L);
        if (xen) {
            assertThat(r.counters().get("foreign_pages_mapped")).isEqualTo(2L);
        }
        // two command-block areas of 31 pages, one per SiI3132 port, allocated through the DMA API
        assertThat(r.counters().get("dma_alloc_calls")).isEqualTo(2L);
    }

    /** On the coherent Juno nothing needs Xen's help; on the non-coherent arm32 test bed foreign pages do. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"4.20", "5.0-rc2", "5.0", "5.4", "6.12"})
    void foreignPagesOfANonCoherentDeviceAreFlushedByHypercall(String kernel) {
        RunResult arm32 = boot("arm32-xen-dom0", kernel);
        // the probe, CLEAN before the device reads the guest's page, INVALIDATE before and after it writes one
        assertThat(arm32.counters().get("xen_cache_flush_hypercalls")).isEqualTo(4L);
        if (!kernel.equals("5.0-rc2")) {
            RunResult juno = boot("juno-r2-xen-dom0", kernel);
            assertThat(juno.counters().get("xen_cache_flush_hypercalls"))
                    .as("only the probe")
                    .isEqualTo(1L);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"juno-r2-xen-dom0", "arm32-xen-dom0"})
    void theSeedsMachinesDefaultToTheReportsKernel(String platform) {
        assertThat(Platforms.builtIn(platform).defaultKernel()).isEqualTo(KernelVersion.V5_0_RC2);
    }
}
