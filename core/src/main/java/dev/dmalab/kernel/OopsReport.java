package dev.dmalab.kernel;

import java.util.List;

/**
 * A modelled kernel crash, as the kernel would print it.
 *
 * <p>Deliberate differences: function offsets ({@code +0x64/0x1e8}), registers, the code dump and {@code BUG}
 * line numbers depend on the compiled kernel and are not printed; the call trace lists the modelled frames only
 * (non-inlined kernel functions the model implements, plus the driver frames of the workload).
 *
 * @param kind what went wrong
 * @param faultAddress the faulting virtual address of a NULL dereference (the offset of the field read through
 *     the NULL pointer), or -1
 * @param bugSite for {@link Kind#BUG}, the source file of the {@code BUG_ON}
 * @param callTrace kernel function names, innermost first
 * @param arm64EcHex arm64 prints the exception class as {@code EC = 0x25: DABT ...} (5.4+, Miles Chen's patch) rather
 *     than {@code Exception class = DABT ...}
 */
public record OopsReport(
        Kind kind,
        ArchKind arch,
        long faultAddress,
        String bugSite,
        int cpu,
        int pid,
        String comm,
        String release,
        String hardwareName,
        List<String> callTrace,
        boolean arm64EcHex) {

    /** Kinds of modelled crash. */
    public enum Kind {
        /** A load or call through a NULL pointer. */
        NULL_DEREF,
        /** {@code BUG()} / {@code BUG_ON()}. */
        BUG
    }

    public OopsReport {
        callTrace = List.copyOf(callTrace);
    }

    /** A report in the current (5.4+) arm64 format. */
    public OopsReport(
            Kind kind,
            ArchKind arch,
            long faultAddress,
            String bugSite,
            int cpu,
            int pid,
            String comm,
            String release,
            String hardwareName,
            List<String> callTrace) {
        this(kind, arch, faultAddress, bugSite, cpu, pid, comm, release, hardwareName, callTrace, true);
    }

    /** The function the crash happened in ({@code pc}), or "?" if no modelled frame was on the stack. */
    public String pcFunction() {
        return callTrace.isEmpty() ? "?" : callTrace.get(0);
    }

    /** The caller of {@link #pcFunction()} ({@code lr}), or "?". */
    public String lrFunction() {
        return callTrace.size() > 1 ? callTrace.get(1) : "?";
    }

    /** One-line summary, e.g. "NULL pointer dereference at 0x0 in xen_swiotlb_alloc_coherent". */
    public String summary() {
        return switch (kind) {
            case NULL_DEREF -> "NULL pointer dereference at virtual address 0x" + Long.toHexString(faultAddress)
                    + " in " + pcFunction();
            case BUG -> "kernel BUG at " + bugSite + " in " + pcFunction();
        };
    }

    /** The report in the arch's own Oops format. */
    public String text() {
        StringBuilder sb = new StringBuilder();
        String addr16 = String.format(java.util.Locale.ROOT, "%016x", faultAddress);
        switch (arch) {
            case ARM64 -> {
                if (kind == Kind.NULL_DEREF) {
                    sb.append("Unable to handle kernel NULL pointer dereference at virtual address ")
                            .append(addr16)
                            .append('\n');
                    sb.append("Mem abort info:\n  ESR = 0x96000004\n");
                    sb.append(arm64EcHex ? "  EC = 0x25: DABT (current EL)" : "  Exception class = DABT (current EL)")
                            .append(", IL = 32 bits\n");
                    sb.append("  SET = 0, FnV = 0\n  EA = 0, S1PTW = 0\n");
                    sb.append("Data abort info:\n  ISV = 0, ISS = 0x00000004\n  CM = 0, WnR = 0\n");
                    sb.append("Internal error: Oops: 96000004 [#1] PREEMPT SMP\n");
                } else {
                    sb.append("kernel BUG at ").append(bugSite).append("!\n");
                    sb.append("Internal error: Oops - BUG: f2000800 [#1] PREEMPT SMP\n");
                }
                banner(sb);
                sb.append("pc : ").append(pcFunction()).append('\n');
                sb.append("lr : ").append(lrFunction()).append('\n');
                sb.append("Call trace:\n");
                for (String f : callTrace) {
                    sb.append(' ').append(f).append('\n');
                }
            }
            case ARM32 -> {
                if (kind == Kind.NULL_DEREF) {
                    sb.append("Unable to handle kernel NULL pointer dereference at virtual address ")
                            .append(String.format(java.util.Locale.ROOT, "%08x", faultAddress))
                            .append('\n');
                    sb.append("Internal error: Oops: 17 [#1] SMP ARM\n");
                } else {
                    sb.append("kernel BUG at ").append(bugSite).append("!\n");
                    sb.append("Internal error: Oops - BUG: 0 [#1] SMP ARM\n");
                }
                banner(sb);
                sb.append("PC is at ").append(pcFunction()).append('\n');
                sb.append("LR is at ").append(lrFunction()).append('\n');
                sb.append("Backtrace:\n");
                for (String f : callTrace) {
                    sb.append("[<00000000>] (").append(f).append(")\n");
                }
            }
            case X86_64 -> {
                if (kind == Kind.NULL_DEREF) {
                    sb.append("BUG: kernel NULL pointer dereference, address: ")
                            .append(addr16)
                            .append('\n');
                    sb.append("#PF: supervisor read access in kernel mode\n");
                    sb.append("#PF: error_code(0x0000) - not-present page\n");
                    sb.append("Oops: 0000 [#1] PREEMPT SMP NOPTI\n");
                } else {
                    sb.append("kernel BUG at ").append(bugSite).append("!\n");
                    sb.append("Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n");
                }
                banner(sb);
                sb.append("RIP: 0010:").append(pcFunction()).append('\n');
                sb.append("Call Trace:\n <TASK>\n");
                for (String f : callTrace) {
                    sb.append(' ').append(f).append('\n');
                }
                sb.append(" </TASK>\n");
            }
        }
        sb.append("---[ end trace 0000000000000000 ]---\n");
        return sb.toString();
    }

    private void banner(StringBuilder sb) {
        sb.append("Modules linked in:\n");
        sb.append("CPU: ")
                .append(cpu)
                .append(" PID: ")
                .append(pid)
                .append(" Comm: ")
                .append(comm)
                .append(" Not tainted ")
                .append(release)
                .append(" #1\n");
        sb.append("Hardware name: ").append(hardwareName).append('\n');
    }
}
