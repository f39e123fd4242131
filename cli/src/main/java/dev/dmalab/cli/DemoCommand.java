package dev.dmalab.cli;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.scenario.RunResult;
import dev.dmalab.scenario.WorkloadRunner;
import dev.dmalab.scenario.Workloads;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "The default demo: one driver bug, run on machines you may not have in front of you.")
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    private record Case(String workload, String platform, String kernel, String cmdline) {}

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        o.println("dmalab demo: a driver maps a buffer FROM_DEVICE, the device writes it, and the driver reads it");
        o.println("with (streaming-roundtrip) and without (-nosync) calling dma_sync_single_for_cpu() first.");
        o.println();
        List<Case> cases = List.of(
                new Case("streaming-roundtrip", "x86-q35", "6.12", ""),
                new Case("streaming-roundtrip-nosync", "x86-q35", "6.12", ""),
                new Case("streaming-roundtrip-nosync", "x86-q35", "6.12", "swiotlb=force"),
                new Case("streaming-roundtrip", "arm64-noncoherent", "6.12", ""),
                new Case("streaming-roundtrip-nosync", "arm64-noncoherent", "6.12", ""),
                new Case("streaming-roundtrip-nosync", "arm64-noncoherent", "5.0", ""),
                new Case("streaming-roundtrip-nosync", "rpi4", "6.12", ""));
        Table t = new Table("WORKLOAD", "PLATFORM", "KERNEL", "CMDLINE", "OUTCOME", "STALE BYTES", "BOUNCED");
        List<String> notes = new ArrayList<>();
        for (Case c : cases) {
            Machine m = Machine.boot(
                    Platforms.builtIn(c.platform()),
                    KernelVersion.parse(c.kernel()),
                    Machine.BootOptions.DEFAULT.withCmdline(c.cmdline()));
            RunResult r = WorkloadRunner.run(Workloads.byName(c.workload()), m, 1);
            t.row(
                    c.workload(),
                    c.platform(),
                    c.kernel(),
                    c.cmdline().isEmpty() ? "-" : c.cmdline(),
                    r.outcome().label(),
                    r.counters().getOrDefault("stale_bytes", 0L),
                    Units.bytes(r.counters().get("swiotlb_bytes_to_bounce")));
            if (!r.failures().isEmpty() && notes.size() < 2) {
                notes.add(c.platform() + " " + c.kernel() + (c.cmdline().isEmpty() ? "" : " " + c.cmdline()) + ": "
                        + r.failures().get(0));
            }
        }
        o.print(t);
        o.println();
        o.println("x86 DMA snoops the CPU caches, so the missing sync goes unnoticed there -- until swiotlb");
        o.println("bounces the buffer and the device's data waits in the bounce buffer. On a non-coherent arm64");
        o.println("SoC the CPU reads the cache lines it held from before the transfer.");
        o.println();
        for (String n : notes) {
            o.println("  " + n);
        }
        o.println();
        o.println("Next: ./dmalab run streaming-roundtrip-nosync --platform arm64-noncoherent --trace nosync.trace");
        o.println("      ./dmalab platforms   ./dmalab kernels --features   ./dmalab --help");
        return Main.EXIT_OK;
    }
}
