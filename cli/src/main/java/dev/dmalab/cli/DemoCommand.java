package dev.dmalab.cli;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.scenario.Outcome;
import dev.dmalab.scenario.RunResult;
import dev.dmalab.scenario.WorkloadRunner;
import dev.dmalab.scenario.Workloads;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "The default demo. 'seed' (the default): the 2019 Xen dom0 boot failure, reproduced on every modelled"
                    + " kernel. 'missing-sync': one driver bug, run on machines you may not have in front of you."
        })
final class DemoCommand implements Callable<Integer> {
    @Parameters(
            arity = "0..1",
            paramLabel = "DEMO",
            defaultValue = "seed",
            description = "seed (default) or missing-sync.")
    String demo;

    @Spec
    CommandSpec spec;

    private record Case(String workload, String platform, String kernel, String cmdline) {}

    @Override
    public Integer call() {
        if (demo.equals("seed")) {
            return seed();
        }
        if (!demo.equals("missing-sync")) {
            throw new UsageException("unknown demo '" + demo + "' (demos: seed, missing-sync)");
        }
        return missingSync();
    }

    /** The seed: xen-dom0-boot on the arm64 and arm32 dom0 machines for every kernel, then the Oops. */
    private int seed() {
        PrintWriter o = spec.commandLine().getOut();
        o.println("dmalab demo: \"Fail to boot Dom0 on Xen Arm64 after 'dma-mapping: bypass indirect calls for");
        o.println("dma-direct'\" (Julien Grall, 2019-01-16), from first principles: in dom0, sata_sil24 probes its");
        o.println("SiI3132 and allocates its command blocks through swiotlb-xen, on every modelled kernel.");
        o.println();
        List<String> platforms = List.of("juno-r2-xen-dom0", "arm32-xen-dom0");
        Table t = new Table("KERNEL", "juno-r2-xen-dom0 (arm64)", "arm32-xen-dom0 (arm32)");
        RunResult oops = null;
        Map<String, String> why = new LinkedHashMap<>();
        for (KernelVersion v : KernelVersion.builtIn()) {
            String[] cells = new String[platforms.size()];
            for (int i = 0; i < platforms.size(); i++) {
                Machine m = Machine.boot(Platforms.builtIn(platforms.get(i)), v);
                RunResult r = WorkloadRunner.run(Workloads.byName("xen-dom0-boot"), m, 1);
                cells[i] = r.outcome().label()
                        + (r.oops() != null ? " (" + r.oops().pcFunction() + ")" : "")
                        + (r.outcome() == Outcome.OK
                                ? " (" + r.counters().getOrDefault("bytes_checked", 0L) + " bytes checked)"
                                : "");
                if (r.oops() != null && oops == null) {
                    oops = r;
                }
                if (v.equals(KernelVersion.V5_0_RC2)) {
                    why.put(platforms.get(i), m.xenWiring().get(0).nativeOps());
                }
            }
            t.row(v.name(), cells[0], cells[1]);
        }
        o.print(t);
        o.println();
        o.println("Why 5.0-rc2 crashes on arm64 and not on arm32: swiotlb-xen's page-coherent hooks call the");
        o.println("device's \"native\" DMA ops, and in 5.0-rc2 these are:");
        why.forEach((p, n) -> o.println("  " + p + ": " + n));
        o.println("5.0-rc1 made NULL dma_ops mean dma-direct; arm32 still hands out arm_dma_ops. The fix");
        o.println("(60d8cd572f65, in 5.0) makes arm64's hooks call dma-direct themselves.");
        if (oops != null) {
            o.println();
            o.println("The 5.0-rc2 Oops on " + oops.platform() + " ("
                    + oops.oops().summary() + "):");
            o.println();
            o.print(oops.oops().text());
        }
        o.println();
        o.println("Next: ./dmalab explain 5.0-rc2 juno-r2-xen-dom0   ./dmalab explain 5.0 juno-r2-xen-dom0");
        o.println("      ./dmalab demo missing-sync   ./dmalab platforms   ./dmalab --help");
        return Main.EXIT_OK;
    }

    private int missingSync() {
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
        o.println("      ./dmalab demo   ./dmalab platforms   ./dmalab kernels --features   ./dmalab --help");
        return Main.EXIT_OK;
    }
}
