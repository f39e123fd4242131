package dev.dmalab.scenario;

import dev.dmalab.check.DmaChecker;
import dev.dmalab.check.DmaFinding;
import dev.dmalab.dma.DmaEvent;
import dev.dmalab.kernel.Finding;
import dev.dmalab.kernel.KernelOops;
import dev.dmalab.kernel.OopsReport;
import dev.dmalab.platform.Machine;
import dev.dmalab.swiotlb.IoTlbMem;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;

/** Runs a workload on a booted machine and reports the outcome and counters. */
public final class WorkloadRunner {
    private WorkloadRunner() {}

    public static RunResult run(Workload workload, Machine machine, long seed) {
        WorkloadContext ctx = new WorkloadContext(machine, seed);
        long[] calls = new long[6];
        machine.events().addListener(e -> {
            if (e instanceof DmaEvent.Map || e instanceof DmaEvent.MapSg) {
                calls[0]++;
            } else if (e instanceof DmaEvent.Unmap || e instanceof DmaEvent.UnmapSg) {
                calls[1]++;
            } else if (e instanceof DmaEvent.SyncSingle || e instanceof DmaEvent.SyncSg) {
                calls[2]++;
            } else if (e instanceof DmaEvent.Alloc) {
                calls[3]++;
            } else if (e instanceof DmaEvent.Free) {
                calls[4]++;
            } else if (e instanceof DmaEvent.SwiotlbBounced) {
                calls[5]++;
            }
        });
        OopsReport oops = null;
        try {
            workload.run(ctx);
        } catch (KernelOops o) {
            oops = o.report();
            machine.kernel().printk().err(o.report().text());
        }
        SortedMap<String, Long> counters = ctx.counters();
        counters.put("dma_map_calls", calls[0]);
        counters.put("dma_unmap_calls", calls[1]);
        counters.put("dma_sync_calls", calls[2]);
        counters.put("dma_alloc_calls", calls[3]);
        counters.put("dma_free_calls", calls[4]);
        counters.put("swiotlb_bounced_events", calls[5]);
        counters.put("swiotlb_bytes_to_bounce", machine.swiotlb().bytesToBounce());
        counters.put("swiotlb_bytes_from_bounce", machine.swiotlb().bytesFromBounce());
        counters.put("swiotlb_failed_maps", machine.swiotlb().failedMaps());
        counters.put("swiotlb_unreachable_bounces", machine.swiotlb().unreachableBounces());
        IoTlbMem mem = machine.swiotlb().defaultMem();
        counters.put("swiotlb_used_hiwater_slots", mem.usedHiwater());
        counters.put("cache_writebacks", machine.caches().writeBacks());
        List<String> findings = new ArrayList<>();
        for (Finding f : machine.kernel().findings()) {
            findings.add(f.toString());
        }
        DmaChecker checker = machine.checker();
        List<DmaFinding> checks = checker == null ? List.of() : checker.findings();
        for (DmaFinding f : checks) {
            findings.add(f.toString());
        }
        Outcome outcome = oops != null
                ? Outcome.OOPS
                : !ctx.failures().isEmpty() || !findings.isEmpty()
                        ? Outcome.FAILED
                        : ctx.unsupportedReason() != null ? Outcome.UNSUPPORTED : Outcome.OK;
        return new RunResult(
                workload.name(),
                machine.profile().name(),
                machine.version().name(),
                seed,
                outcome,
                ctx.failures(),
                counters,
                oops,
                findings,
                checks,
                checker == null ? 0 : checker.suppressed(),
                outcome == Outcome.UNSUPPORTED ? ctx.unsupportedReason() : null);
    }
}
