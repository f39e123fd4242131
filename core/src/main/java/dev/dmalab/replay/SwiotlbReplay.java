package dev.dmalab.replay;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAddress;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.platform.Machine;
import dev.dmalab.swiotlb.Swiotlb;
import dev.dmalab.trace.TraceEvent;
import dev.dmalab.trace.TraceRecord;
import dev.dmalab.util.Bits;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replays the swiotlb side of a real capture on a booted {@link Machine}, following the replay rules of {@code
 * validated-swiotlb.md} §3 and checklist item 7:
 *
 * <ul>
 *   <li>the slot search runs at the {@code swiotlb_bounced} line (the kernel traces it just before {@code
 *       swiotlb_tbl_map_single}), on the line's CPU;
 *   <li>the prediction is checked at the {@code dma_map_page} / {@code dma_map_sg} line that follows: the bounce is
 *       paired on the same CPU, LIFO, with the same device and phys (other CPUs as a fallback for migration);
 *   <li>slots are freed at {@code dma_unmap_page}, matched by (device, DMA address), and at {@code dma_unmap_sg},
 *       matched by (device, full phys list), oldest live list first;
 *   <li>a failed map has no unmap.
 * </ul>
 *
 * The replay is open-loop: it never corrects the model with the trace's answer, so one wrong slot would cascade
 * into later mismatches. Mappings that did not bounce (no {@code swiotlb_bounced} line) are not swiotlb's and are
 * only counted.
 */
public final class SwiotlbReplay {
    /** One mismatch between the model and the kernel. */
    public record Mismatch(int line, String device, long phys, long kernelDma, long modelDma) {
        @Override
        public String toString() {
            return "line " + line + ": " + device + " phys 0x" + Long.toHexString(phys) + ": kernel 0x"
                    + Long.toHexString(kernelDma) + ", model 0x" + Long.toHexString(modelDma);
        }
    }

    /** What the replay found. */
    public record Result(
            long predicted,
            long exact,
            long failedMapsPredicted,
            long notBounced,
            long unmatchedUnmaps,
            List<Mismatch> firstMismatches) {
        /** Fraction of bounced mappings whose DMA address the model predicted exactly. */
        public double fidelity() {
            return predicted == 0 ? 1.0 : (double) exact / predicted;
        }
    }

    private record Pending(Device device, long phys, long tlb, long size) {}

    private record PageKey(String device, long dma) {}

    private record SgLive(String device, long[] phys, long[] tlb, long[] sizes, Direction dir) {}

    private final Machine machine;
    private final Swiotlb swiotlb;
    private final Map<Integer, Deque<Pending>> pending = new HashMap<>();
    private final Map<PageKey, Pending> livePages = new LinkedHashMap<>();
    private final List<SgLive> liveSg = new ArrayList<>();
    private final List<Mismatch> mismatches = new ArrayList<>();
    private long predicted;
    private long exact;
    private long failedPredicted;
    private long notBounced;
    private long unmatchedUnmaps;

    public SwiotlbReplay(Machine machine) {
        this.machine = machine;
        this.swiotlb = machine.swiotlb();
    }

    /** The number of mapping predictions compared so far. */
    public long predicted() {
        return predicted;
    }

    /** Feeds one trace record. */
    public void accept(TraceRecord r) {
        machine.kernel().clock().advanceTo(Math.max(machine.kernel().clock().nowNs(), r.timestampNs()));
        TraceEvent e = r.event();
        if (e instanceof TraceEvent.SwiotlbBounced b) {
            bounce(r, b);
        } else if (e instanceof TraceEvent.Map m && !m.resource()) {
            map(r, m);
        } else if (e instanceof TraceEvent.MapSg m) {
            mapSg(r, m);
        } else if (e instanceof TraceEvent.Unmap u && !u.resource()) {
            unmap(u);
        } else if (e instanceof TraceEvent.UnmapSg u) {
            unmapSg(u);
        }
    }

    private void bounce(TraceRecord r, TraceEvent.SwiotlbBounced b) {
        Device dev = machine.device(b.device());
        machine.kernel().context().onCpu(r.cpu());
        long phys = DmaAddress.dmaToPhys(dev, b.devAddr());
        long tlb = swiotlb.tblMapSingle(dev, phys, b.size(), 0, Direction.BIDIRECTIONAL, DmaAttrs.NO_WARN);
        pending.computeIfAbsent(r.cpu(), c -> new ArrayDeque<>()).push(new Pending(dev, phys, tlb, b.size()));
    }

    /** Takes the bounce this map belongs to: same CPU first (LIFO), then any CPU. */
    private Pending takeBounce(int cpu, String device, long phys) {
        Pending p = take(pending.get(cpu), device, phys);
        if (p != null) {
            return p;
        }
        for (Deque<Pending> q : pending.values()) {
            p = take(q, device, phys);
            if (p != null) {
                return p;
            }
        }
        return null;
    }

    private static Pending take(Deque<Pending> q, String device, long phys) {
        if (q == null) {
            return null;
        }
        Iterator<Pending> it = q.iterator();
        while (it.hasNext()) {
            Pending p = it.next();
            if (p.device().name().equals(device) && p.phys() == phys) {
                it.remove();
                return p;
            }
        }
        return null;
    }

    private long modelDma(Pending p) {
        return p.tlb() == Bits.U64_MAX ? Bits.U64_MAX : DmaAddress.physToDma(p.device(), p.tlb());
    }

    private void compare(int line, Pending p, long kernelDma) {
        predicted++;
        long model = modelDma(p);
        if (model == kernelDma) {
            exact++;
            if (model == Bits.U64_MAX) {
                failedPredicted++;
            }
        } else if (mismatches.size() < 20) {
            mismatches.add(new Mismatch(line, p.device().name(), p.phys(), kernelDma, model));
        }
    }

    private void map(TraceRecord r, TraceEvent.Map m) {
        Pending p = takeBounce(r.cpu(), m.device(), m.phys());
        if (p == null) {
            notBounced++;
            return;
        }
        compare(r.line(), p, m.dmaAddr());
        if (p.tlb() != Bits.U64_MAX && m.dmaAddr() != Bits.U64_MAX) {
            livePages.put(new PageKey(m.device(), m.dmaAddr()), p);
        } else if (p.tlb() != Bits.U64_MAX) {
            // the kernel failed where the model succeeded: give the slots back, the kernel has no unmap
            release(p, m.dir());
        }
    }

    private void mapSg(TraceRecord r, TraceEvent.MapSg m) {
        int n = m.nents();
        long[] phys = Arrays.copyOf(m.phys(), n);
        long[] tlb = new long[n];
        long[] sizes = new long[n];
        boolean anyBounced = false;
        for (int i = 0; i < n; i++) {
            Pending p = i < m.phys().length ? takeBounce(r.cpu(), m.device(), m.phys()[i]) : null;
            if (p == null) {
                tlb[i] = Bits.U64_MAX;
                continue;
            }
            anyBounced = true;
            phys[i] = p.phys();
            tlb[i] = p.tlb();
            sizes[i] = p.size();
            if (i < m.dmaAddrs().length) {
                compare(r.line(), p, m.dmaAddrs()[i]);
            }
        }
        if (!anyBounced) {
            notBounced++;
            return;
        }
        liveSg.add(new SgLive(m.device(), phys, tlb, sizes, m.dir()));
    }

    private void unmap(TraceEvent.Unmap u) {
        Pending p = livePages.remove(new PageKey(u.device(), u.dmaAddr()));
        if (p == null) {
            if (swiotlb.findPool(machine.device(u.device()), u.dmaAddr()) != null) {
                unmatchedUnmaps++;
            }
            return;
        }
        release(p, u.dir());
    }

    private void release(Pending p, Direction dir) {
        swiotlb.tblUnmapSingle(p.device(), p.tlb(), p.size(), dir, DmaAttrs.SKIP_CPU_SYNC);
    }

    private void unmapSg(TraceEvent.UnmapSg u) {
        for (Iterator<SgLive> it = liveSg.iterator(); it.hasNext(); ) {
            SgLive s = it.next();
            if (s.device().equals(u.device()) && Arrays.equals(s.phys(), u.phys())) {
                it.remove();
                Device dev = machine.device(s.device());
                for (int i = 0; i < s.tlb().length; i++) {
                    if (s.tlb()[i] != Bits.U64_MAX) {
                        swiotlb.tblUnmapSingle(dev, s.tlb()[i], s.sizes()[i], u.dir(), DmaAttrs.SKIP_CPU_SYNC);
                    }
                }
                return;
            }
        }
    }

    public Result result() {
        return new Result(predicted, exact, failedPredicted, notBounced, unmatchedUnmaps, List.copyOf(mismatches));
    }
}
