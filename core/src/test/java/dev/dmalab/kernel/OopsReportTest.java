package dev.dmalab.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link OopsReport} text per arch, and how {@link Kernel} builds it from annotated frames. */
class OopsReportTest {
    private static final List<String> TRACE =
            List.of("xen_swiotlb_alloc_coherent", "dmam_alloc_attrs", "sil24_port_start");

    private static OopsReport nullDeref(ArchKind arch) {
        return new OopsReport(
                OopsReport.Kind.NULL_DEREF, arch, 0x20, null, 1, 77, "kworker/1:2", "5.0.0-rc2-dmalab", "board", TRACE);
    }

    private static OopsReport bug(ArchKind arch) {
        return new OopsReport(
                OopsReport.Kind.BUG,
                arch,
                -1,
                "kernel/dma/mapping.c",
                0,
                1,
                "swapper/0",
                "6.12.0-dmalab",
                "board",
                TRACE);
    }

    @Test
    void arm64NullDereference() {
        assertThat(nullDeref(ArchKind.ARM64).text())
                .isEqualTo("Unable to handle kernel NULL pointer dereference at virtual address 0000000000000020\n"
                        + "Mem abort info:\n  ESR = 0x96000004\n  EC = 0x25: DABT (current EL), IL = 32 bits\n"
                        + "  SET = 0, FnV = 0\n  EA = 0, S1PTW = 0\n"
                        + "Data abort info:\n  ISV = 0, ISS = 0x00000004\n  CM = 0, WnR = 0\n"
                        + "Internal error: Oops: 96000004 [#1] PREEMPT SMP\n"
                        + "Modules linked in:\n"
                        + "CPU: 1 PID: 77 Comm: kworker/1:2 Not tainted 5.0.0-rc2-dmalab #1\n"
                        + "Hardware name: board\n"
                        + "pc : xen_swiotlb_alloc_coherent\n"
                        + "lr : dmam_alloc_attrs\n"
                        + "Call trace:\n"
                        + " xen_swiotlb_alloc_coherent\n dmam_alloc_attrs\n sil24_port_start\n"
                        + "---[ end trace 0000000000000000 ]---\n");
    }

    @Test
    void arm64BeforeFive4PrintsTheExceptionClassByName() {
        OopsReport r = new OopsReport(
                OopsReport.Kind.NULL_DEREF,
                ArchKind.ARM64,
                0,
                null,
                4,
                1,
                "swapper/0",
                "5.0.0-rc2-dmalab",
                "board",
                TRACE,
                false);
        assertThat(r.text())
                .contains("  Exception class = DABT (current EL), IL = 32 bits\n  SET = 0, FnV = 0\n")
                .doesNotContain("EC = 0x25");
    }

    @Test
    void arm32NullDereferencePrintsAn8DigitAddress() {
        assertThat(nullDeref(ArchKind.ARM32).text())
                .isEqualTo("Unable to handle kernel NULL pointer dereference at virtual address 00000020\n"
                        + "Internal error: Oops: 17 [#1] SMP ARM\n"
                        + "Modules linked in:\n"
                        + "CPU: 1 PID: 77 Comm: kworker/1:2 Not tainted 5.0.0-rc2-dmalab #1\n"
                        + "Hardware name: board\n"
                        + "PC is at xen_swiotlb_alloc_coherent\n"
                        + "LR is at dmam_alloc_attrs\n"
                        + "Backtrace:\n"
                        + "[<00000000>] (xen_swiotlb_alloc_coherent)\n"
                        + "[<00000000>] (dmam_alloc_attrs)\n"
                        + "[<00000000>] (sil24_port_start)\n"
                        + "---[ end trace 0000000000000000 ]---\n");
    }

    @Test
    void x86NullDereference() {
        assertThat(nullDeref(ArchKind.X86_64).text())
                .isEqualTo("BUG: kernel NULL pointer dereference, address: 0000000000000020\n"
                        + "#PF: supervisor read access in kernel mode\n"
                        + "#PF: error_code(0x0000) - not-present page\n"
                        + "Oops: 0000 [#1] PREEMPT SMP NOPTI\n"
                        + "Modules linked in:\n"
                        + "CPU: 1 PID: 77 Comm: kworker/1:2 Not tainted 5.0.0-rc2-dmalab #1\n"
                        + "Hardware name: board\n"
                        + "RIP: 0010:xen_swiotlb_alloc_coherent\n"
                        + "Call Trace:\n <TASK>\n"
                        + " xen_swiotlb_alloc_coherent\n dmam_alloc_attrs\n sil24_port_start\n"
                        + " </TASK>\n"
                        + "---[ end trace 0000000000000000 ]---\n");
    }

    @Test
    void bugsPerArch() {
        assertThat(bug(ArchKind.ARM64).text())
                .startsWith(
                        "kernel BUG at kernel/dma/mapping.c!\nInternal error: Oops - BUG: f2000800 [#1] PREEMPT SMP\n");
        assertThat(bug(ArchKind.ARM32).text())
                .startsWith("kernel BUG at kernel/dma/mapping.c!\nInternal error: Oops - BUG: 0 [#1] SMP ARM\n");
        assertThat(bug(ArchKind.X86_64).text())
                .startsWith("kernel BUG at kernel/dma/mapping.c!\nOops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n")
                .contains("CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.0-dmalab #1\n");
        assertThat(bug(ArchKind.ARM64).summary())
                .isEqualTo("kernel BUG at kernel/dma/mapping.c in xen_swiotlb_alloc_coherent");
        assertThat(nullDeref(ArchKind.ARM64).summary())
                .isEqualTo("NULL pointer dereference at virtual address 0x20 in xen_swiotlb_alloc_coherent");
    }

    @Test
    void anEmptyTraceHasNoPcFunction() {
        OopsReport r = new OopsReport(
                OopsReport.Kind.BUG, ArchKind.ARM64, -1, "x.c", 0, 1, "init", "6.12.0-dmalab", "b", List.of());
        assertThat(r.pcFunction()).isEqualTo("?");
        assertThat(r.text()).contains("pc : ?\nlr : ?\n");
    }

    @Test
    void theTraceIsCopied() {
        List<String> trace = new ArrayList<>(TRACE);
        OopsReport r = new OopsReport(
                OopsReport.Kind.BUG, ArchKind.ARM64, -1, "x.c", 0, 1, "init", "6.12.0-dmalab", "b", trace);
        trace.clear();
        assertThat(r.callTrace()).hasSize(3);
        assertThatThrownBy(() -> r.callTrace().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Kernel.deref / Kernel.bug and the call trace from @KernelFunction frames

    @KernelFunction("dmalab_outer")
    private static void outer(Kernel k) {
        middle(k);
    }

    @KernelFunction(value = "dmalab_always_inline", inline = true)
    private static void middle(Kernel k) {
        inner(k);
    }

    @KernelFunction(value = "dmalab_inner", inlineBefore = "5.10")
    private static void inner(Kernel k) {
        Runnable r = () -> k.deref(null, 0x40); // lambda frames carry no kernel name
        r.run();
    }

    @Test
    void theCallTraceListsOutOfLineAnnotatedFramesInnermostFirst() {
        Kernel k612 = new Kernel(KernelVersion.V6_12, ArchKind.ARM64, 2, "board");
        Kernel k50 = new Kernel(KernelVersion.V5_0, ArchKind.ARM64, 2, "board");
        k612.context().onCpu(1).task("kworker/1:2", 77);

        OopsReport r612 =
                catchThrowableOfType(() -> outer(k612), KernelOops.class).report();
        OopsReport r50 =
                catchThrowableOfType(() -> outer(k50), KernelOops.class).report();

        assertThat(r612.callTrace()).containsExactly("dmalab_inner", "dmalab_outer");
        assertThat(r50.callTrace()).as("inlined before 5.10").containsExactly("dmalab_outer");
        assertThat(r612.faultAddress()).isEqualTo(0x40);
        assertThat(r612.cpu()).isEqualTo(1);
        assertThat(r612.pid()).isEqualTo(77);
        assertThat(r612.comm()).isEqualTo("kworker/1:2");
        assertThat(r612.hardwareName()).isEqualTo("board");
        assertThat(r612.release()).isEqualTo("6.12.0-dmalab");
    }

    @Test
    void derefOfANonNullPointerIsThePointerAndBugAlwaysThrows() {
        Kernel k = new Kernel(KernelVersion.V6_12, ArchKind.X86_64, 1, "pc");
        String s = "table";
        assertThat(k.deref(s, 8)).isSameAs(s);
        KernelOops o = catchThrowableOfType(() -> k.bug("kernel/dma/swiotlb.c"), KernelOops.class);
        assertThat(o.report().kind()).isEqualTo(OopsReport.Kind.BUG);
        assertThat(o.report().bugSite()).isEqualTo("kernel/dma/swiotlb.c");
        assertThat(o.getMessage()).isEqualTo(o.report().summary());
    }
}
