package dev.dmalab.cli;

import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.DmaPathLog;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.platform.Platforms;
import dev.dmalab.scenario.Outcome;
import dev.dmalab.scenario.RunResult;
import dev.dmalab.scenario.Workload;
import dev.dmalab.scenario.WorkloadRunner;
import dev.dmalab.scenario.Workloads;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "explain",
        mixinStandardHelpOptions = true,
        description = {
            "Run a workload and show which path served each DMA call: dma-direct, which dma_ops, a swiotlb bounce,"
                    + " Xen's page-coherent hooks, a cache-flush hypercall, a memory exchange.",
            "Exit status as for 'run'."
        })
final class ExplainCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "KERNEL", description = "Kernel version (see 'dmalab kernels').")
    String kernel;

    @Parameters(
            index = "1",
            paramLabel = "PLATFORM",
            description = "A built-in platform (see 'dmalab platforms') or a profile .yaml.")
    String platform;

    @Option(
            names = {"-w", "--workload"},
            paramLabel = "WORKLOAD",
            description = "The workload to run (default: xen-dom0-boot where a sata_sil24 device exists, else"
                    + " streaming-roundtrip).")
    String workload;

    @Option(
            names = "--cmdline",
            paramLabel = "PARAMS",
            defaultValue = "",
            description = "Kernel parameters added to the platform's.")
    String cmdline;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PlatformProfile profile = UsageException.lookup(() -> Platforms.load(platform));
        KernelVersion version = UsageException.lookup(() -> KernelVersion.parse(kernel));
        String name = workload != null
                ? workload
                : profile.devices().stream().anyMatch(d -> "sata_sil24".equals(d.driver()))
                        ? "xen-dom0-boot"
                        : "streaming-roundtrip";
        Workload w = UsageException.lookup(() -> Workloads.byName(name));
        Machine m = Machine.boot(profile, version, Machine.BootOptions.DEFAULT.withCmdline(cmdline));
        m.kernel().paths().enable();
        RunResult r = WorkloadRunner.run(w, m, 1);
        PrintWriter o = spec.commandLine().getOut();
        o.println(r.workload() + " on " + r.platform() + ", Linux " + r.kernel() + " model: "
                + r.outcome().label());
        if (m.xen() != null) {
            RunCommand.printXenWiring(o, m);
        }
        o.println();
        printCalls(o, m.kernel().paths());
        if (r.oops() != null) {
            o.println();
            o.println("The last call ended in an Oops: " + r.oops().summary() + " (full report: dmalab run "
                    + r.workload() + " -p " + r.platform() + " -k " + r.kernel() + ")");
        }
        for (String f : r.failures()) {
            o.println("  - " + f);
        }
        for (String f : r.findings()) {
            o.println("  ! " + f);
        }
        if (m.xen() != null && m.dom0().autoTranslated()) {
            o.println();
            for (String line : answer(m)) {
                o.println(line);
            }
        }
        return r.outcome() == Outcome.OK ? Main.EXIT_OK : Main.EXIT_FAILED;
    }

    /** The calls, one per line, with what served them indented below. */
    static void printCalls(PrintWriter o, DmaPathLog log) {
        Table t = new Table("#", "CALL", "DEVICE", "DISPATCHED TO");
        for (DmaPathLog.Call c : log.calls()) {
            t.row(c.seq(), c.api(), c.device(), c.route());
        }
        String[] lines = t.toString().split("\n");
        o.println(lines[0]);
        int i = 1;
        for (DmaPathLog.Call c : log.calls()) {
            o.println(lines[i++]);
            for (String n : c.notes()) {
                o.println("      " + n);
            }
        }
    }

    /**
     * The thread's question — "does it mean we expect dev->dma_ops to always be NULL?" — answered for this kernel
     * and machine.
     */
    static List<String> answer(Machine m) {
        List<String> out = new ArrayList<>();
        out.add("Does it mean we expect dev->dma_ops to always be NULL? (Julien Grall, 2019-01-17)");
        String native0 = m.devices().isEmpty()
                ? ""
                : m.xenOps().nativeOpsFor(m.devices().iterator().next());
        KernelVersion v = m.version();
        boolean arm64 = m.profile().arch() == ArchKind.ARM64;
        out.add("  In dom0 every device's dma_ops is xen_swiotlb_dma_ops; the question is what swiotlb-xen finds"
                + " underneath.");
        if (v.has(Feature.XEN_PAGE_COHERENT_REWORK)) {
            out.add("  Since 5.4 swiotlb-xen does the cache maintenance itself (arch_sync_dma_* for local pages,"
                    + " GNTTABOP_cache_flush for foreign ones) and allocates with dma-direct: no native ops are used,"
                    + " so a device is expected to have no dma_ops of its own.");
        } else if (arm64 && v.has(Feature.XEN_ARM64_HEADER_FIXED)) {
            out.add("  With the fix (60d8cd572f65) arm64's page-coherent hooks call dma-direct directly: yes, the"
                    + " device's own dma_ops is expected to be NULL (dma-direct), which is what Stefano Stabellini"
                    + " suggested checking.");
        } else if (native0.startsWith("NULL")) {
            out.add("  In this kernel the hooks still call the device's native ops: archdata.dev_dma_ops saved the"
                    + " NULL that 5.0-rc1 gave dma-direct devices, and get_arch_dma_ops(NULL) is NULL on arm64 — so"
                    + " the first call through them dereferences NULL (the seed's Oops).");
        } else {
            out.add("  In this kernel the hooks call the device's native ops, and they exist: " + native0 + ".");
        }
        return out;
    }
}
