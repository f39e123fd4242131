package dev.dmalab.replay;

import dev.dmalab.device.Device;
import dev.dmalab.dma.DmaAddress;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.DmaParams;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.iommu.DmaIommu;
import dev.dmalab.platform.InputException;
import dev.dmalab.platform.Machine;
import dev.dmalab.swiotlb.IoTlbMem;
import dev.dmalab.swiotlb.IoTlbPool;
import dev.dmalab.trace.FtraceParser;
import dev.dmalab.trace.TraceEvent;
import dev.dmalab.trace.TraceRecord;
import dev.dmalab.util.Bits;
import dev.dmalab.util.LongObjectMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Replays a real trace on modelled machines and compares every streaming mapping's DMA address with the kernel's
 * (issue "real kernel traces", spec §6/§10, {@code validated-swiotlb.md} §3 and §5 item 7).
 *
 * <h2>Two models side by side</h2>
 *
 * The <em>open-loop</em> model runs freely from the start: its own answers decide its later state, so one wrong
 * slot can cascade. The optional <em>one-step</em> model, after each prediction, adopts what the trace shows — it
 * frees the bounce slots it chose and takes the kernel's ({@link dev.dmalab.swiotlb.Swiotlb#adoptMapping}), or behind
 * an IOMMU gives back the IOVA it chose and maps at the kernel's ({@link dev.dmalab.iommu.IovaDomain#adopt}) — so
 * every prediction is made from the true history and only the model's independent errors count.
 *
 * <h2>Event plumbing</h2>
 *
 * <ul>
 *   <li>The CPU column selects the modelled CPU (swiotlb areas); the timestamp advances the simulated clock.
 *   <li>A mapping is made at its {@code swiotlb_bounced} line when it has one (the kernel traces it just before the
 *       slot search, while the map line comes after the ops call, so an interrupt's unmap may sit between them): the
 *       map line it belongs to is found ahead in a bounded window ({@value #LOOKAHEAD} records) — same CPU, device
 *       and physical address, first on the same CPU, then on any (migration). Without a bounce line the mapping is
 *       made at its map line.
 *   <li>The model's answer is compared at the map line: a {@code dma_map_page}/{@code _resource}/{@code _phys} by
 *       its address (or failure), a {@code dma_map_sg} by its entry count and every printed address and length, a
 *       {@code dma_map_sg_err} by the model failing too.
 *   <li>Unmaps and syncs find their mapping by device and the kernel's DMA address (a sync may point inside a
 *       mapping) and act on the model's; {@code dma_unmap_sg} finds its list by device and its physical addresses,
 *       oldest live list first. A mapping the kernel failed and the model made is released at once (no unmap will
 *       come); one the model failed is remembered so that its unmap is matched and skipped.
 *   <li>Coherent allocations take the trace's memory as given: they are bookkept (leaks, frees without an
 *       allocation; a {@code dma_free} of a NULL address is ignored) but not made again.
 * </ul>
 *
 * <h2>Inversions</h2>
 *
 * A miss whose kernel address overlaps a mapping that the trace still shows live (its unmap line comes later) is
 * an ordering inversion: the unmap really happened first, in an interrupt between the operation and its trace
 * event. Such misses are counted in {@code inversions}, and still count as misses. They are classified only when a
 * one-step model runs (the comparing mode); without one, only the first {@value #MAX_MISMATCHES} misses are.
 *
 * <p>Partial: a {@code dma_map_sg} truncated at 128 entries is rebuilt from its {@code swiotlb_bounced} lines
 * where they exist, else from the printed entries only (the rest are not mapped in the model, and the unmap is
 * matched on the printed prefix); input lengths are taken from the printed DMA lengths, which is exact where entries
 * are not merged (dma-direct, swiotlb, Xen) and not behind an IOMMU, which dmalab does not model yet.
 */
public final class TraceReplay {
    /** How far ahead the map line of a {@code swiotlb_bounced} line is looked for. */
    public static final int LOOKAHEAD = 4096;

    /** How many mismatches are kept with their context. */
    public static final int MAX_MISMATCHES = 20;

    /** Lines of context kept before a mismatch. */
    public static final int CONTEXT_LINES = 4;

    /** One streaming mapping the model got wrong (open-loop). */
    public record Mismatch(int line, String device, String event, String kernel, String model, List<String> context) {}

    /** A mapping the model failed. */
    public record Failure(int line, String device, long size, long poolUsed, long poolSlots, long[] areaUsed) {}

    /** A mapping still live at the end of the trace. */
    public record Live(int line, String device, long dmaAddr, long size) {}

    /** Counts for one event type or device. */
    public static final class Tally {
        long mappings;
        long exact;
        long exactOneStep;

        public long mappings() {
            return mappings;
        }

        public long exact() {
            return exact;
        }

        public long exactOneStep() {
            return exactOneStep;
        }
    }

    private final String file;
    private final FtraceParser parser;
    private final Model open;
    private final Model step;
    /**
     * The window: a ring of reusable slots of which at most {@value #LOOKAHEAD} + 1 are in use (the record being
     * processed and the records ahead of it), so filling it never overwrites the record in hand.
     */
    private static final int WINDOW_SLOTS = Integer.highestOneBit(LOOKAHEAD + 1) << 1;

    private final Record[] window = new Record[WINDOW_SLOTS];

    /**
     * By slot: whether the record is a map a bounce can belong to ({@code dma_map_page}, {@code _sg}, {@code
     * _sg_err}); kept beside the slots so that the search for a bounce's map line skips other records in one array.
     */
    private final boolean[] mapAt = new boolean[WINDOW_SLOTS];

    private int head;
    private int size;
    private boolean eof;
    /** The last records processed, decoded to text only when a mismatch quotes them. */
    private final TraceRecord[] context = new TraceRecord[CONTEXT_LINES];

    private int contextPos;

    private long events;
    private long dmaEvents;
    private long markers;
    private long streaming;
    private long exact;
    private long exactOneStep;
    private long inversions;
    private long inversionsOneStep;
    private long kernelFailures;
    private long orphanBounces;
    private long truncatedFromUnmap;
    private long truncatedUncompleted;
    /** Counts by event type and by device; never iterated but through the sorted copies the accessors return. */
    private final Map<String, Tally> byType = new HashMap<>();

    private final Map<String, Tally> byDevice = new HashMap<>();
    private final List<Mismatch> mismatches = new ArrayList<>();

    /** A slot of the window: a trace record with what each model did for it ahead of its line. */
    private static final class Record {
        TraceRecord r;
        /** What the open-loop model did at the record's bounce line, ahead of the record's own line; else null. */
        Object preOpen;
        /** The same for the one-step model. */
        Object preStep;

        int bouncesClaimed;
        /** A truncated {@code dma_map_sg}'s whole input list, where the trace gives it elsewhere; else null. */
        long[] fullPhys;

        long[] fullLen;

        /** Makes the slot hold {@code record}, with nothing done for it yet. */
        void hold(TraceRecord record) {
            r = record;
            preOpen = null;
            preStep = null;
            bouncesClaimed = 0;
            fullPhys = null;
            fullLen = null;
        }
    }

    /**
     * @param file the trace's name for messages
     * @param openLoop the machine that runs freely
     * @param oneStep the machine that adopts the trace's answers, or null
     */
    public TraceReplay(String file, FtraceParser parser, Machine openLoop, Machine oneStep) {
        this.file = file;
        this.parser = parser;
        this.open = new Model(openLoop, false);
        this.step = oneStep == null ? null : new Model(oneStep, true);
        for (int i = 0; i < WINDOW_SLOTS; i++) {
            window[i] = new Record();
        }
    }

    /** Replays the whole trace. */
    public TraceReplay run() {
        while (true) {
            Record rec = take();
            if (rec == null) {
                break;
            }
            process(rec);
        }
        return this;
    }

    // -------------------------------------------------------------------------------------------------------------
    // Window

    private boolean fill(int n) {
        while (size < n && !eof) {
            TraceRecord r = parser.next();
            if (r == null) {
                eof = true;
                break;
            }
            int slot = (head + size) & (WINDOW_SLOTS - 1);
            window[slot].hold(r);
            TraceEvent e = r.event();
            mapAt[slot] =
                    e instanceof TraceEvent.Map || e instanceof TraceEvent.MapSg || e instanceof TraceEvent.MapSgErr;
            size++;
        }
        return size >= n;
    }

    private Record at(int i) {
        return window[(head + i) & (WINDOW_SLOTS - 1)];
    }

    private Record take() {
        if (!fill(1)) {
            return null;
        }
        Record r = window[head];
        head = (head + 1) & (WINDOW_SLOTS - 1);
        size--;
        return r;
    }

    // -------------------------------------------------------------------------------------------------------------
    // Processing

    private void process(Record rec) {
        TraceRecord r = rec.r;
        events++;
        TraceEvent e = r.event();
        if (e instanceof TraceEvent.Other) {
            return;
        }
        if (e instanceof TraceEvent.Marker) {
            markers++;
            remember(r);
            return;
        }
        dmaEvents++;
        open.at(r);
        if (step != null) {
            step.at(r);
        }
        if (e instanceof TraceEvent.SwiotlbBounced b) {
            bounced(r, b);
        } else if (e instanceof TraceEvent.Map m) {
            mapped(rec, m);
        } else if (e instanceof TraceEvent.MapSg m) {
            mappedSg(rec, m);
        } else if (e instanceof TraceEvent.MapSgErr m) {
            mappedSgErr(rec, m);
        } else if (e instanceof TraceEvent.Unmap u) {
            open.unmap(r, u);
            if (step != null) {
                step.unmap(r, u);
            }
        } else if (e instanceof TraceEvent.UnmapSg u) {
            open.unmapSg(u);
            if (step != null) {
                step.unmapSg(u);
            }
        } else if (e instanceof TraceEvent.Sync s) {
            open.sync(s);
            if (step != null) {
                step.sync(s);
            }
        } else if (e instanceof TraceEvent.SyncSg s) {
            open.syncSg(s);
            if (step != null) {
                step.syncSg(s);
            }
        } else if (e instanceof TraceEvent.Alloc a) {
            open.alloc(r, a);
            if (step != null) {
                step.alloc(r, a);
            }
        } else if (e instanceof TraceEvent.Free f) {
            open.free(f);
            if (step != null) {
                step.free(f);
            }
        } else if (e instanceof TraceEvent.AllocSgt s) {
            TraceEvent.Alloc a = asAlloc(s);
            open.alloc(r, a);
            if (step != null) {
                step.alloc(r, a);
            }
        } else if (e instanceof TraceEvent.FreeSgt s) {
            TraceEvent.Free f = asFree(s);
            open.free(f);
            if (step != null) {
                step.free(f);
            }
        }
        remember(r);
    }

    /**
     * A {@code dma_alloc_sgt} replayed as a coherent allocation of its size. Behind an IOMMU, {@code
     * dma_alloc_noncontiguous} ({@code __iommu_dma_alloc_noncontig}) and {@code dma_alloc_attrs} ({@code
     * iommu_dma_alloc}, remapped or contiguous) both take one IOVA of the granule-aligned size below the coherent mask,
     * so the model's coherent allocation makes the same IOVA; without an IOMMU both are bookkept only. Deliberate
     * difference: the model's pages are one contiguous buffer, not the trace's page list.
     */
    private static TraceEvent.Alloc asAlloc(TraceEvent.AllocSgt s) {
        long phys = s.phys().length == 0 ? -1 : s.phys()[0];
        return new TraceEvent.Alloc(s.device(), false, s.dir(), s.dmaAddr(), s.size(), -1, phys, s.gfp(), s.attrs());
    }

    /** A {@code dma_free_sgt} as the free of {@link #asAlloc}'s allocation. */
    private static TraceEvent.Free asFree(TraceEvent.FreeSgt s) {
        long phys = s.phys().length == 0 ? -1 : s.phys()[0];
        return new TraceEvent.Free(s.device(), false, s.dir(), s.dmaAddr(), s.size(), -1, phys, 0);
    }

    private void remember(TraceRecord r) {
        context[contextPos] = r;
        contextPos = (contextPos + 1) % CONTEXT_LINES;
    }

    private List<String> contextLines(TraceRecord r) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < CONTEXT_LINES; i++) {
            TraceRecord c = context[(contextPos + i) % CONTEXT_LINES];
            if (c != null) {
                out.add(clip(c.text()));
            }
        }
        out.add(clip(r.text()));
        return out;
    }

    /** A bounce line: make the mapping it belongs to now, in both models. */
    private void bounced(TraceRecord r, TraceEvent.SwiotlbBounced b) {
        Device dev = open.device(r, b.device(), b.dmaMask());
        if (step != null) {
            step.device(r, b.device(), b.dmaMask());
        }
        long phys = DmaAddress.dmaToPhys(dev, b.devAddr());
        Record target = findMapFor(r.cpu(), b.device(), phys);
        if (target == null) {
            orphanBounces++;
            return;
        }
        target.bouncesClaimed++;
        if (target.preOpen == null) {
            completeSg(target, r);
            target.preOpen = open.execute(target);
            if (step != null) {
                target.preStep = step.execute(target);
            }
        }
    }

    private Record findMapFor(int cpu, String device, long phys) {
        Record any = null;
        for (int i = 0; i < LOOKAHEAD && fill(i + 1); i++) {
            if (!mapAt[(head + i) & (WINDOW_SLOTS - 1)]) {
                continue;
            }
            Record c = at(i);
            if (!claims(c, device, phys)) {
                continue;
            }
            if (c.r.cpu() == cpu) {
                return c;
            }
            if (any == null) {
                any = c;
            }
        }
        return any;
    }

    /** Whether record {@code c} is a map of {@code phys} on {@code device} that can still take a bounce. */
    private static boolean claims(Record c, String device, long phys) {
        TraceEvent e = c.r.event();
        if (e instanceof TraceEvent.Map m) {
            return c.bouncesClaimed == 0
                    && !m.resource()
                    && m.phys() == phys
                    && m.device().equals(device);
        }
        if (e instanceof TraceEvent.MapSg m) {
            return c.bouncesClaimed < m.nents() && m.device().equals(device) && contains(m.phys(), phys);
        }
        if (e instanceof TraceEvent.MapSgErr m) {
            return c.bouncesClaimed < m.phys().length && m.device().equals(device) && contains(m.phys(), phys);
        }
        return false;
    }

    private static boolean contains(long[] a, long v) {
        for (long x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private void mapped(Record rec, TraceEvent.Map m) {
        String type = rec.r.eventName();
        long[] o = (long[]) result(rec, open, 0);
        long[] s = step == null ? null : (long[]) result(rec, step, 1);
        if (m.dmaAddr() == Bits.U64_MAX) {
            kernelFailures++;
        }
        boolean okOpen = o[0] == m.dmaAddr();
        boolean okStep = s != null && s[0] == m.dmaAddr();
        tally(rec.r, m.device(), type, okOpen, okStep);
        if (!okOpen) {
            miss(rec.r, m.device(), type, o, false, m.dmaAddr(), m.size());
        }
        if (s != null && !okStep) {
            miss(rec.r, m.device(), type, s, true, m.dmaAddr(), m.size());
        }
        open.settleMap(rec.r, m, o);
        if (step != null) {
            step.settleMap(rec.r, m, s);
        }
    }

    private void mappedSg(Record rec, TraceEvent.MapSg m) {
        Model.SgResult o = (Model.SgResult) result(rec, open, 0);
        Model.SgResult s = step == null ? null : (Model.SgResult) result(rec, step, 1);
        boolean okOpen = o.matches(m);
        boolean okStep = s != null && s.matches(m);
        tally(rec.r, m.device(), "dma_map_sg", okOpen, okStep);
        long first = m.dmaAddrs().length > 0 ? m.dmaAddrs()[0] : Bits.U64_MAX;
        long len = m.sizes().length > 0 ? m.sizes()[0] : 0;
        if (!okOpen) {
            miss(rec.r, m.device(), "dma_map_sg", o, false, first, len);
        }
        if (s != null && !okStep) {
            miss(rec.r, m.device(), "dma_map_sg", s, true, first, len);
        }
        open.settleSg(rec.r, m, o);
        if (step != null) {
            step.settleSg(rec.r, m, s);
        }
    }

    private void mappedSgErr(Record rec, TraceEvent.MapSgErr m) {
        kernelFailures++;
        Model.SgResult o = (Model.SgResult) result(rec, open, 0);
        Model.SgResult s = step == null ? null : (Model.SgResult) result(rec, step, 1);
        boolean okOpen = o.ents <= 0;
        boolean okStep = s != null && s.ents <= 0;
        tally(rec.r, m.device(), "dma_map_sg_err", okOpen, okStep);
        if (!okOpen) {
            miss(rec.r, m.device(), "dma_map_sg_err", o, false, Bits.U64_MAX, 0);
        }
        open.releaseSg(rec.r, m, o);
        if (step != null) {
            step.releaseSg(rec.r, m, s);
        }
    }

    private Object result(Record rec, Model model, int slot) {
        Object pre = slot == 0 ? rec.preOpen : rec.preStep;
        if (pre != null) {
            return pre;
        }
        if (slot == 0) {
            completeSg(rec, null);
        }
        return model.execute(rec);
    }

    /**
     * A {@code dma_map_sg} truncated at 128 printed entries: its whole input list from the {@code swiotlb_bounced}
     * lines that precede it (one per entry, same CPU and device, with phys and length), else from its {@code
     * dma_unmap_sg} ahead in the window (phys only; the tail's lengths are then taken to the end of each page).
     */
    private void completeSg(Record rec, TraceRecord bounce) {
        if (!(rec.r.event() instanceof TraceEvent.MapSg m) || rec.fullPhys != null || !m.truncated()) {
            return;
        }
        int n = m.nents();
        long[] phys = new long[n];
        long[] len = new long[n];
        int got = 0;
        if (bounce != null && bounce.event() instanceof TraceEvent.SwiotlbBounced b) {
            phys[got] = b.devAddr();
            len[got++] = b.size();
        }
        int i = 0;
        for (; got > 0 && got < n && i < size && at(i) != rec; i++) {
            TraceRecord c = at(i).r;
            if (c.cpu() == bounce.cpu()
                    && c.event() instanceof TraceEvent.SwiotlbBounced b
                    && b.device().equals(m.device())) {
                phys[got] = b.devAddr();
                len[got++] = b.size();
            }
        }
        if (got == n && Arrays.equals(phys, 0, m.phys().length, m.phys(), 0, m.phys().length)) {
            rec.fullPhys = phys;
            rec.fullLen = len;
            return;
        }
        for (i = 0; i < LOOKAHEAD && fill(i + 1); i++) {
            if (at(i).r.event() instanceof TraceEvent.UnmapSg u
                    && u.device().equals(m.device())
                    && u.phys().length == n
                    && Arrays.equals(u.phys(), 0, m.phys().length, m.phys(), 0, m.phys().length)) {
                rec.fullPhys = u.phys();
                truncatedFromUnmap++;
                if (m.ents() < m.nents()) {
                    return; // merged: the lengths follow from the printed outputs (mergedInputLengths)
                }
                long page = open.pageSize;
                for (int k = 0; k < n; k++) {
                    len[k] = k < m.sizes().length && m.ents() == m.nents()
                            ? m.sizes()[k]
                            : page - (u.phys()[k] & (page - 1));
                }
                rec.fullLen = len;
                return;
            }
        }
        truncatedUncompleted++;
    }

    private void tally(TraceRecord r, String device, String type, boolean okOpen, boolean okStep) {
        streaming++;
        Tally t = byType.computeIfAbsent(type, k -> new Tally());
        Tally d = byDevice.computeIfAbsent(device, k -> new Tally());
        t.mappings++;
        d.mappings++;
        if (okOpen) {
            exact++;
            t.exact++;
            d.exact++;
        }
        if (okStep) {
            exactOneStep++;
            t.exactOneStep++;
            d.exactOneStep++;
        }
    }

    /**
     * A streaming mapping the model got wrong: counted as an inversion when it is one, and listed with its context
     * when it is among the first {@value #MAX_MISMATCHES} open-loop misses (its texts are built only then).
     *
     * @param model what the model answered: {@code long[]{dma, ...}} for a page, an {@link Model.SgResult} for a list
     */
    private void miss(
            TraceRecord r, String device, String type, Object model, boolean oneStep, long kernelAddr, long len) {
        if (!oneStep && mismatches.size() >= MAX_MISMATCHES && step == null) {
            return; // not comparing (no one-step model): the first mismatches are kept, inversions not classified
        }
        Model which = oneStep ? step : open;
        boolean inverted = kernelAddr != Bits.U64_MAX && which.overlapsLiveKernelMapping(kernelAddr, len);
        if (inverted) {
            if (oneStep) {
                inversionsOneStep++;
            } else {
                inversions++;
            }
        }
        if (!oneStep && mismatches.size() < MAX_MISMATCHES) {
            mismatches.add(new Mismatch(
                    r.line(),
                    device,
                    type + (inverted ? " (inversion)" : ""),
                    kernelText(r.event()),
                    model instanceof long[] o ? hex(o[0]) : ((Model.SgResult) model).text(),
                    List.copyOf(contextLines(r))));
        }
    }

    /** What the kernel did, as a mismatch lists it. */
    private static String kernelText(TraceEvent e) {
        if (e instanceof TraceEvent.Map m) {
            return hex(m.dmaAddr());
        }
        if (e instanceof TraceEvent.MapSg m) {
            return sgText(m.ents(), m.dmaAddrs(), m.sizes());
        }
        if (e instanceof TraceEvent.MapSgErr m) {
            return "error " + m.err();
        }
        throw new IllegalStateException("not a map event: " + e);
    }

    /** A coherent allocation whose IOVA the model got wrong: listed with the streaming mismatches (open-loop). */
    private void coherentMiss(TraceRecord r, TraceEvent.Alloc a, long model, Model which) {
        if (which == open && mismatches.size() < MAX_MISMATCHES) {
            mismatches.add(new Mismatch(
                    r.line(),
                    a.device(),
                    "dma_alloc",
                    Bits.hex0x(a.dmaAddr()),
                    model == Bits.U64_MAX ? "failed" : Bits.hex0x(model),
                    List.copyOf(contextLines(r))));
        }
    }

    /**
     * The input lengths of a {@code dma_map_sg} whose entries the kernel merged ({@code ents < nents}): the trace
     * prints the inputs' physical addresses and the merged outputs' lengths, not the inputs' lengths. Inputs of a
     * merged list are granule-aligned (validated-iova §9), so the outputs partition them into consecutive groups; a
     * group ends where the next input would have overrun {@code maxSegLen}. Groups are filled left to right, each
     * with as many inputs as it can hold when every input but its first is one page and its first is long enough to
     * have broken the merge with the group before ({@code > maxSegLen - previous}); the first absorbs the rest of the
     * group's bytes. The IOVA size and every output address and length then follow from the kernel's own merge rules;
     * only how the bytes split among the inputs of one output is a reconstruction.
     *
     * @return the lengths, or null if no such split exists (the caller then falls back to whole pages)
     */
    static long[] mergedInputLengths(long[] phys, long[] outSizes, long pageSize, long maxSegLen) {
        int n = phys.length;
        int ents = outSizes.length;
        if (ents == 0 || ents > n) {
            return null;
        }
        long[] len = new long[n];
        int next = 0;
        for (int k = 0; k < ents; k++) {
            long size = outSizes[k];
            long first = k == 0 ? pageSize : Math.max(pageSize, maxSegLen - outSizes[k - 1] + pageSize);
            if (size < first || size % pageSize != 0) {
                first = size; // cannot be forced: one input carries the group
            }
            long most = 1 + (size - first) / pageSize;
            long left = n - next - (ents - k - 1); // inputs this group may take, leaving one for each later group
            int take = (int) (k == ents - 1 ? left : Math.min(most, left));
            if (take < 1 || take > most) {
                return null;
            }
            len[next] = size - (long) (take - 1) * pageSize;
            for (int t = 1; t < take; t++) {
                len[next + t] = pageSize;
            }
            next += take;
        }
        return next == n ? len : null;
    }

    /** A context line as reports quote it: at most 200 characters. */
    static String clip(String line) {
        return line.length() <= 200 ? line : line.substring(0, 199) + "…";
    }

    static String hex(long a) {
        return a == Bits.U64_MAX ? "DMA_MAPPING_ERROR" : Bits.hex0x(a);
    }

    /** An sg list as a report shows it: its entry count and at most its first four entries, "…" for the rest. */
    static String sgText(int ents, long[] dma, long[] len) {
        StringBuilder sb = new StringBuilder().append(ents).append(" entries {");
        int shown = Math.min(dma.length, 4);
        for (int i = 0; i < shown; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(Bits.hex0x(dma[i])).append('+').append(Bits.hex0x(len[i]));
        }
        return sb.append(ents > shown ? ",…}" : "}").toString();
    }

    // -------------------------------------------------------------------------------------------------------------
    // Results

    public long events() {
        return events;
    }

    public long dmaEvents() {
        return dmaEvents;
    }

    public long markers() {
        return markers;
    }

    public long otherEvents() {
        return parser.otherEvents();
    }

    public long malformedLines() {
        return parser.malformedLines();
    }

    public long streamingMappings() {
        return streaming;
    }

    public long exact() {
        return exact;
    }

    public long exactOneStep() {
        return exactOneStep;
    }

    public double fidelity() {
        return streaming == 0 ? 1.0 : (double) exact / streaming;
    }

    /** One-step fidelity, or NaN when no one-step model ran. */
    public double fidelityOneStep() {
        if (step == null) {
            return Double.NaN;
        }
        return streaming == 0 ? 1.0 : (double) exactOneStep / streaming;
    }

    public long inversions() {
        return inversions;
    }

    public long inversionsOneStep() {
        return inversionsOneStep;
    }

    /** Counts by event type, sorted by name. */
    public Map<String, Tally> byType() {
        return new TreeMap<>(byType);
    }

    /** Counts by device, sorted by name. */
    public Map<String, Tally> byDevice() {
        return new TreeMap<>(byDevice);
    }

    public List<Mismatch> mismatches() {
        return mismatches;
    }

    /** Mappings the kernel failed (DMA_MAPPING_ERROR or {@code dma_map_sg_err}). */
    public long kernelFailures() {
        return kernelFailures;
    }

    /** {@code swiotlb_bounced} lines whose map line was not found within the window. */
    public long orphanBounces() {
        return orphanBounces;
    }

    /** Truncated {@code dma_map_sg} lists completed from their {@code dma_unmap_sg}. */
    public long truncatedFromUnmap() {
        return truncatedFromUnmap;
    }

    /**
     * Truncated {@code dma_map_sg} lists the trace gave no way to complete: the model mapped the printed entries
     * only, and they were compared on those.
     */
    public long truncatedUncompleted() {
        return truncatedUncompleted;
    }

    /** The open-loop model's account. */
    public Model model() {
        return open;
    }

    /** The one-step model's account, or null. */
    public Model oneStepModel() {
        return step;
    }

    // -------------------------------------------------------------------------------------------------------------
    // One model

    /** One modelled machine driven by the trace, with its own bookkeeping of live mappings. */
    public final class Model {
        private final Machine m;
        private final boolean adopt;
        private final long pageSize;
        private final Map<String, Dev> devs = new LinkedHashMap<>();
        private final Map<String, String> inferred = new LinkedHashMap<>();
        private long modelFailures;
        private long failuresKernelMade;
        private Failure firstFailure;
        private long unmatchedUnmaps;
        private long unmatchedSyncs;
        private long coherentAllocs;
        private long coherentFrees;
        private long freesWithoutAlloc;
        private long nullFrees;
        private long coherentCompared;
        private long coherentExact;
        private long peakSwiotlb;
        private long adoptFailures;

        private Model(Machine m, boolean adopt) {
            this.m = m;
            this.adopt = adopt;
            this.pageSize = m.memory().pageSize().bytes();
        }

        /** Per-device state: live streaming mappings by the kernel's address, live sg lists oldest first. */
        private final class Dev {
            final Device device;
            final LongObjectMap<Page> pages = new LongObjectMap<>(64);
            final List<Sg> sgs = new ArrayList<>();
            final HashMap<Long, Integer> coherent = new HashMap<>();
            /** Behind an IOMMU: the model's own coherent buffers by the kernel's handle, oldest first. */
            final HashMap<Long, List<long[]>> iommuCoherent = new HashMap<>();

            Dev(Device device) {
                this.device = device;
            }
        }

        /** A live page mapping: the kernel's address and size, the model's address (all ones if it failed). */
        private record Page(
                int line, long kernelDma, long size, long modelDma, long phys, boolean resource, Page next) {}

        private record Sg(
                int line,
                long[] phys,
                boolean prefixOnly,
                int nents,
                long[] kernelDma,
                long[] kernelLen,
                SgResult model) {}

        /** The model's answer for one sg list. */
        final class SgResult {
            final ScatterList list;
            final int nents;
            final int ents;
            final long[] phys;
            boolean fromRcache;

            SgResult(ScatterList list, int nents, int ents, long[] phys) {
                this.list = list;
                this.nents = nents;
                this.ents = ents;
                this.phys = phys;
            }

            /**
             * The kernel's entry count and every printed address and length; a truncated list the model could only
             * map in part is held to its printed entries (and must not have merged them).
             */
            boolean matches(TraceEvent.MapSg k) {
                boolean partial = nents < k.nents();
                if (partial ? ents != k.dmaAddrs().length : ents != k.ents()) {
                    return false;
                }
                for (int i = 0; i < k.dmaAddrs().length; i++) {
                    if (i >= ents || list.dmaAddress(i) != k.dmaAddrs()[i] || list.dmaLength(i) != k.sizes()[i]) {
                        return false;
                    }
                }
                return true;
            }

            /** The same input entries in a new, unmapped list (one-step maps them again). */
            ScatterList freshInputs() {
                ScatterList fresh = new ScatterList(phys.length);
                for (int i = 0; i < phys.length; i++) {
                    fresh.addPhys(phys[i], list.length(i), pageSize);
                }
                return fresh;
            }

            String text() {
                if (ents <= 0) {
                    return "failed (" + ents + ")";
                }
                long[] d = new long[Math.min(ents, 4)];
                long[] l = new long[d.length];
                for (int i = 0; i < d.length; i++) {
                    d[i] = list.dmaAddress(i);
                    l[i] = list.dmaLength(i);
                }
                return sgText(ents, d, l);
            }
        }

        public Machine machine() {
            return m;
        }

        void at(TraceRecord r) {
            if (r.cpu() >= m.kernel().context().cpus()) {
                throw new InputException(
                        file,
                        r.line(),
                        "cpu",
                        "CPU " + r.cpu() + " but the replayed machine has "
                                + m.kernel().context().cpus()
                                + " (give --dmesg of the traced machine or a profile with more CPUs)");
            }
            m.kernel().context().onCpu(r.cpu());
            if (r.timestampNs() > m.kernel().clock().nowNs()) {
                m.kernel().clock().advanceTo(r.timestampNs());
            }
        }

        /** Whether {@code dev} maps through the model's dma-iommu. */
        private boolean viaIommu(Device dev) {
            return m.iommu() != null && dev.dmaIommu();
        }

        Device device(TraceRecord r, String name, long bouncedMask) {
            return dev(r, name, bouncedMask).device;
        }

        private Dev dev(TraceRecord r, String name, long bouncedMask) {
            Dev d = devs.get(name);
            if (d != null) {
                return d;
            }
            Device device;
            if (m.deviceNames().contains(name)) {
                device = m.device(name);
            } else {
                long mask = bouncedMask > 0 ? bouncedMask : Bits.U64_MAX;
                try {
                    device = m.hotplug(ReplaySetup.inferredDevice(name, mask));
                } catch (IllegalArgumentException | InputException e) {
                    throw new InputException(file, r.line(), "device", name + ": " + e.getMessage());
                }
                inferred.put(
                        name,
                        Bits.maskWidth(mask) + "-bit mask from "
                                + (bouncedMask > 0
                                        ? "its swiotlb_bounced line " + r.line()
                                        : "the default (first seen at line " + r.line() + ")"));
            }
            d = new Dev(device);
            devs.put(name, d);
            return d;
        }

        /** Makes the mapping of a map record in the model. Returns long[]{dma} or an {@link SgResult}. */
        Object execute(Record rec) {
            TraceRecord r = rec.r;
            at(r);
            TraceEvent e = r.event();
            if (e instanceof TraceEvent.Map mp) {
                Device dev = dev(r, mp.device(), 0).device;
                long dma;
                if (mp.resource()) {
                    dma = m.dma().mapResource(dev, mp.phys(), mp.size(), mp.dir(), mp.attrs());
                } else {
                    long page = mp.phys() & -pageSize;
                    dma = m.dma().mapPageAttrs(dev, page, mp.phys() - page, mp.size(), mp.dir(), mp.attrs());
                }
                noteMap(r, mp.device(), mp.size(), dma == Bits.U64_MAX);
                return new long[] {dma, viaIommu(dev) && m.iommu().lastFromRcache(dev) ? 1 : 0};
            }
            if (e instanceof TraceEvent.MapSg sg) {
                Device dev = dev(r, sg.device(), 0).device;
                long[] phys = rec.fullPhys != null ? rec.fullPhys : sg.phys();
                int n = phys.length;
                long[] merged = rec.fullLen == null && sg.ents() < sg.nents() && n == sg.nents()
                        ? mergedInputLengths(phys, sg.sizes(), pageSize, DmaParams.maxSegmentSize(dev))
                        : null;
                ScatterList list = new ScatterList(n);
                for (int i = 0; i < n; i++) {
                    long len;
                    if (rec.fullLen != null) {
                        len = rec.fullLen[i];
                    } else if (merged != null) {
                        len = merged[i];
                    } else if (i < sg.sizes().length && sg.ents() == sg.nents()) {
                        len = sg.sizes()[i];
                    } else {
                        len = pageSize - (phys[i] & (pageSize - 1));
                    }
                    list.addPhys(phys[i], (int) len, pageSize);
                }
                int ents = m.dma().mapSgAttrs(dev, list, list.nents(), sg.dir(), sg.attrs());
                long total = 0;
                for (long s : sg.sizes()) {
                    total += s;
                }
                noteMap(r, sg.device(), total, ents <= 0);
                SgResult res = new SgResult(list, n, ents, rec.fullPhys != null ? rec.fullPhys : sg.phys());
                res.fromRcache = viaIommu(dev) && m.iommu().lastFromRcache(dev);
                return res;
            }
            if (e instanceof TraceEvent.MapSgErr sg) {
                Device dev = dev(r, sg.device(), 0).device;
                int n = sg.phys().length;
                ScatterList list = new ScatterList(n);
                for (int i = 0; i < n; i++) {
                    list.addPhys(sg.phys()[i], (int) (pageSize - (sg.phys()[i] & (pageSize - 1))), pageSize);
                }
                int ents = m.dma().mapSgAttrs(dev, list, list.nents(), sg.dir(), sg.attrs());
                return new SgResult(list, n, ents, sg.phys());
            }
            throw new IllegalStateException("not a map event: " + r.eventName());
        }

        private void noteMap(TraceRecord r, String device, long size, boolean failed) {
            IoTlbMem mem = m.swiotlb().defaultMem();
            long used = mem.used();
            if (used > peakSwiotlb) {
                peakSwiotlb = used;
            }
            if (failed) {
                modelFailures++;
                if (firstFailure == null) {
                    IoTlbPool pool = mem.defpool();
                    long[] areas = new long[pool == null ? 0 : pool.nareas()];
                    for (int i = 0; i < areas.length; i++) {
                        areas[i] = pool.areaUsed(i);
                    }
                    firstFailure = new Failure(r.line(), device, size, used, mem.nslabs(), areas);
                }
            }
        }

        void settleMap(TraceRecord r, TraceEvent.Map k, long[] res) {
            Dev d = dev(r, k.device(), 0);
            long model = res[0];
            boolean kernelFailed = k.dmaAddr() == Bits.U64_MAX;
            if (!kernelFailed && model == Bits.U64_MAX) {
                failuresKernelMade++;
            }
            if (adopt && model != k.dmaAddr()) {
                model = viaIommu(d.device) ? adoptIommuPage(d, k, model, res[1] != 0) : adoptPage(d, k, model);
            }
            if (kernelFailed) {
                if (model != Bits.U64_MAX) {
                    unmapModel(d.device, model, k.size(), k, k.resource());
                }
                return;
            }
            Page page = new Page(r.line(), k.dmaAddr(), k.size(), model, k.phys(), k.resource(), null);
            d.pages.put(k.dmaAddr(), append(d.pages.get(k.dmaAddr()), page));
        }

        /** The chain {@code head} (oldest first) with {@code p} at its end: an unmap takes the oldest mapping. */
        private Page append(Page head, Page p) {
            if (head == null) {
                return p;
            }
            return new Page(
                    head.line(),
                    head.kernelDma(),
                    head.size(),
                    head.modelDma(),
                    head.phys(),
                    head.resource(),
                    append(head.next(), p));
        }

        /**
         * One-step: drop the model's mapping and take the kernel's instead. If the kernel's slots are still taken in
         * the model (an inversion), the model holds nothing for this mapping: all ones, so its unmap is skipped.
         */
        private long adoptPage(Dev d, TraceEvent.Map k, long model) {
            if (model != Bits.U64_MAX) {
                unmapModel(d.device, model, k.size(), k, k.resource());
            }
            if (k.dmaAddr() == Bits.U64_MAX) {
                return Bits.U64_MAX;
            }
            long tlb = DmaAddress.dmaToPhys(d.device, k.dmaAddr());
            if (m.swiotlb().findPool(d.device, tlb) != null
                    && !m.swiotlb().adoptMapping(d.device, tlb, k.phys(), k.size())) {
                adoptFailures++;
                return Bits.U64_MAX;
            }
            return k.dmaAddr();
        }

        /**
         * One-step behind an IOMMU: take the model's IOVA back as if it had never been allocated, then map again with
         * the kernel's IOVA forced; if the model holds that space otherwise (an inversion) it holds nothing.
         */
        private long adoptIommuPage(Dev d, TraceEvent.Map k, long model, boolean fromRcache) {
            DmaIommu io = m.iommu();
            if (model != Bits.U64_MAX) {
                io.undo(d.device, model, k.size(), fromRcache);
            }
            if (k.dmaAddr() == Bits.U64_MAX) {
                return Bits.U64_MAX;
            }
            io.forceNextIova(d.device, k.dmaAddr());
            long page = k.phys() & -pageSize;
            long again = k.resource()
                    ? m.dma().mapResource(d.device, k.phys(), k.size(), k.dir(), k.attrs())
                    : m.dma()
                            .mapPageAttrs(
                                    d.device,
                                    page,
                                    k.phys() - page,
                                    k.size(),
                                    k.dir(),
                                    k.attrs() | DmaAttrs.SKIP_CPU_SYNC);
            if (again != k.dmaAddr()) {
                adoptFailures++;
                if (again != Bits.U64_MAX) {
                    io.undo(d.device, again, k.size(), false);
                }
                return Bits.U64_MAX;
            }
            return again;
        }

        private void unmapModel(Device dev, long model, long size, TraceEvent.Map k, boolean resource) {
            if (resource) {
                m.dma().unmapResource(dev, model, size, k.dir(), k.attrs() | DmaAttrs.SKIP_CPU_SYNC);
            } else {
                m.dma().unmapPageAttrs(dev, model, size, k.dir(), k.attrs() | DmaAttrs.SKIP_CPU_SYNC);
            }
        }

        void settleSg(TraceRecord r, TraceEvent.MapSg k, SgResult res) {
            Dev d = dev(r, k.device(), 0);
            if (res.ents <= 0) {
                failuresKernelMade++;
            }
            if (adopt && !res.matches(k)) {
                res = viaIommu(d.device) ? adoptIommuSg(d, k, res) : adoptSg(d, k, res);
            }
            d.sgs.add(new Sg(r.line(), res.phys, res.phys.length < k.nents(), k.nents(), k.dmaAddrs(), k.sizes(), res));
        }

        private SgResult adoptSg(Dev d, TraceEvent.MapSg k, SgResult res) {
            if (res.ents > 0) {
                m.dma().unmapSgAttrs(d.device, res.list, res.nents, k.dir(), k.attrs() | DmaAttrs.SKIP_CPU_SYNC);
            }
            ScatterList list = res.freshInputs();
            for (int i = 0; i < k.dmaAddrs().length && i < list.nents(); i++) {
                list.setDma(i, k.dmaAddrs()[i], (int) k.sizes()[i]);
                long tlb = DmaAddress.dmaToPhys(d.device, k.dmaAddrs()[i]);
                if (m.swiotlb().findPool(d.device, tlb) != null
                        && !m.swiotlb().adoptMapping(d.device, tlb, k.phys()[i], k.sizes()[i])) {
                    adoptFailures++;
                    list.setDma(i, Bits.U64_MAX, (int) k.sizes()[i]); // held by nothing in the model
                }
            }
            return new SgResult(list, list.nents(), k.ents(), res.phys);
        }

        /** One-step behind an IOMMU: the sg list's IOVA range taken back, the list mapped again at the kernel's. */
        private SgResult adoptIommuSg(Dev d, TraceEvent.MapSg k, SgResult res) {
            DmaIommu io = m.iommu();
            if (res.ents > 0) {
                long start = res.list.dmaAddress(0);
                long end = start;
                for (int i = 0; i < res.ents; i++) {
                    end = res.list.dmaAddress(i) + res.list.dmaLength(i);
                }
                io.undo(d.device, start, end - start, res.fromRcache);
            }
            ScatterList list = res.freshInputs();
            int ents = 0;
            if (k.ents() > 0 && k.dmaAddrs().length > 0) {
                io.forceNextIova(d.device, k.dmaAddrs()[0]);
                ents = m.dma().mapSgAttrs(d.device, list, list.nents(), k.dir(), k.attrs() | DmaAttrs.SKIP_CPU_SYNC);
            }
            SgResult again = new SgResult(list, list.nents(), ents, res.phys);
            if (!again.matches(k)) {
                adoptFailures++;
            }
            return again;
        }

        /** {@code dma_map_sg_err}: the kernel holds nothing, so whatever the model mapped goes back. */
        void releaseSg(TraceRecord r, TraceEvent.MapSgErr k, SgResult res) {
            if (res.ents > 0) {
                Dev d = dev(r, k.device(), 0);
                m.dma().unmapSgAttrs(d.device, res.list, res.nents, k.dir(), k.attrs() | DmaAttrs.SKIP_CPU_SYNC);
            }
        }

        void unmap(TraceRecord r, TraceEvent.Unmap u) {
            Dev d = dev(r, u.device(), 0);
            Page p = d.pages.get(u.dmaAddr());
            if (p == null) {
                unmatchedUnmaps++;
                return;
            }
            if (p.next() == null) {
                d.pages.remove(u.dmaAddr());
            } else {
                d.pages.put(u.dmaAddr(), p.next());
            }
            if (p.modelDma() == Bits.U64_MAX) {
                return;
            }
            if (p.resource()) {
                m.dma().unmapResource(d.device, p.modelDma(), u.size(), u.dir(), u.attrs());
            } else {
                m.dma().unmapPageAttrs(d.device, p.modelDma(), u.size(), u.dir(), u.attrs());
            }
        }

        void unmapSg(TraceEvent.UnmapSg u) {
            Dev d = devs.get(u.device());
            if (d == null) {
                unmatchedUnmaps++;
                return;
            }
            for (int i = 0; i < d.sgs.size(); i++) {
                Sg s = d.sgs.get(i);
                if (samePhys(s, u.phys())) {
                    d.sgs.remove(i);
                    if (s.model().ents > 0) {
                        m.dma().unmapSgAttrs(d.device, s.model().list, s.model().nents, u.dir(), u.attrs());
                    }
                    return;
                }
            }
            unmatchedUnmaps++;
        }

        private boolean samePhys(Sg s, long[] phys) {
            if (!s.prefixOnly()) {
                return Arrays.equals(s.phys(), phys);
            }
            if (phys.length != s.nents()) {
                return false;
            }
            return Arrays.equals(s.phys(), 0, s.phys().length, phys, 0, s.phys().length);
        }

        void sync(TraceEvent.Sync s) {
            Dev d = devs.get(s.device());
            Page p = d == null ? null : findPage(d, s.dmaAddr());
            if (p == null) {
                unmatchedSyncs++;
                return;
            }
            if (p.modelDma() == Bits.U64_MAX) {
                return;
            }
            long addr = p.modelDma() + (s.dmaAddr() - p.kernelDma());
            if (s.forCpu()) {
                m.dma().syncSingleForCpu(d.device, addr, s.size(), s.dir());
            } else {
                m.dma().syncSingleForDevice(d.device, addr, s.size(), s.dir());
            }
        }

        /**
         * The live page mapping a sync's address belongs to: the one that starts there, else the oldest live one that
         * contains it (kernel mappings of one device overlap only across a trace-order inversion).
         */
        private Page findPage(Dev d, long addr) {
            Page p = d.pages.get(addr);
            if (p != null) {
                return p;
            }
            Page oldest = null;
            for (int i = 0; i < d.pages.slots(); i++) {
                Page q = d.pages.valueAt(i);
                if (q != null
                        && Long.compareUnsigned(addr, q.kernelDma()) >= 0
                        && addr - q.kernelDma() < q.size()
                        && (oldest == null || q.line() < oldest.line())) {
                    oldest = q;
                }
            }
            return oldest;
        }

        void syncSg(TraceEvent.SyncSg s) {
            Dev d = devs.get(s.device());
            if (d != null && s.dmaAddrs().length > 0) {
                for (Sg sg : d.sgs) {
                    if (sg.kernelDma().length > 0 && sg.kernelDma()[0] == s.dmaAddrs()[0]) {
                        if (sg.model().ents > 0) {
                            if (s.forCpu()) {
                                m.dma().syncSgForCpu(d.device, sg.model().list, sg.model().nents, s.dir());
                            } else {
                                m.dma().syncSgForDevice(d.device, sg.model().list, sg.model().nents, s.dir());
                            }
                        }
                        return;
                    }
                }
            }
            unmatchedSyncs++;
        }

        void alloc(TraceRecord r, TraceEvent.Alloc a) {
            if (a.dmaAddr() == Bits.U64_MAX) {
                return;
            }
            Dev d = dev(r, a.device(), 0);
            coherentAllocs++;
            d.coherent.merge(a.dmaAddr(), 1, Integer::sum);
            if (!a.pages() && viaIommu(d.device)) {
                allocThroughIommu(r, d, a);
            }
        }

        /**
         * Behind an IOMMU a coherent buffer's IOVA comes from the same allocator as the streaming mappings': the
         * model allocates it too (its own pages; the trace does not print the kernel's) and compares the handle.
         */
        private void allocThroughIommu(TraceRecord r, Dev d, TraceEvent.Alloc a) {
            DmaIommu io = m.iommu();
            long[] h = new long[1];
            long va = m.dma().allocAttrs(d.device, a.size(), h, a.gfp(), a.attrs());
            long handle = va == 0 ? Bits.U64_MAX : h[0];
            coherentCompared++;
            if (handle == a.dmaAddr()) {
                coherentExact++;
            } else {
                coherentMiss(r, a, handle, this);
                if (adopt) {
                    if (va != 0) {
                        io.undo(d.device, handle, a.size(), io.lastFromRcache(d.device));
                        io.releaseCoherentPages(va);
                    }
                    io.forceNextIova(d.device, a.dmaAddr());
                    va = m.dma().allocAttrs(d.device, a.size(), h, a.gfp(), a.attrs());
                    handle = va == 0 ? Bits.U64_MAX : h[0];
                    if (handle != a.dmaAddr()) {
                        adoptFailures++;
                    }
                }
            }
            if (va != 0) {
                d.iommuCoherent
                        .computeIfAbsent(a.dmaAddr(), x -> new ArrayList<>())
                        .add(new long[] {va, handle});
            }
        }

        void free(TraceEvent.Free f) {
            if (f.virt() == 0 || f.phys() == 0 && f.virt() < 0) {
                nullFrees++;
                return;
            }
            coherentFrees++;
            Dev d = devs.get(f.device());
            if (d != null && !f.pages()) {
                List<long[]> mine = d.iommuCoherent.get(f.dmaAddr());
                if (mine != null) {
                    long[] c = mine.remove(0);
                    if (mine.isEmpty()) {
                        d.iommuCoherent.remove(f.dmaAddr());
                    }
                    m.dma().freeAttrs(d.device, f.size(), c[0], c[1], f.attrs());
                }
            }
            Integer n = d == null ? null : d.coherent.get(f.dmaAddr());
            if (n == null) {
                freesWithoutAlloc++;
            } else if (n == 1) {
                d.coherent.remove(f.dmaAddr());
            } else {
                d.coherent.put(f.dmaAddr(), n - 1);
            }
        }

        /** Whether {@code [addr, addr + len)} overlaps a live mapping the trace has not unmapped yet. */
        boolean overlapsLiveKernelMapping(long addr, long len) {
            long end = addr + Math.max(len, 1);
            for (Dev d : devs.values()) {
                for (int i = 0; i < d.pages.slots(); i++) {
                    for (Page q = d.pages.valueAt(i); q != null; q = q.next()) {
                        if (Long.compareUnsigned(q.kernelDma(), end) < 0
                                && Long.compareUnsigned(addr, q.kernelDma() + q.size()) < 0) {
                            return true;
                        }
                    }
                }
                for (Sg s : d.sgs) {
                    for (int i = 0; i < s.kernelDma().length; i++) {
                        long a = s.kernelDma()[i];
                        if (Long.compareUnsigned(a, end) < 0 && Long.compareUnsigned(addr, a + s.kernelLen()[i]) < 0) {
                            return true;
                        }
                    }
                }
            }
            return false;
        }

        // ---------------------------------------------------------------------------------------------------------
        // Account

        /** Streaming mappings the trace never unmapped, oldest first (at most {@code limit}), and their count. */
        public List<Live> liveAtEnd(int limit) {
            List<Live> out = new ArrayList<>();
            for (Map.Entry<String, Dev> e : devs.entrySet()) {
                LongObjectMap<Page> pages = e.getValue().pages;
                for (int i = 0; i < pages.slots(); i++) {
                    for (Page q = pages.valueAt(i); q != null; q = q.next()) {
                        out.add(new Live(q.line(), e.getKey(), q.kernelDma(), q.size()));
                    }
                }
                for (Sg s : e.getValue().sgs) {
                    long first = s.kernelDma().length > 0 ? s.kernelDma()[0] : 0;
                    long total = 0;
                    for (long l : s.kernelLen()) {
                        total += l;
                    }
                    out.add(new Live(s.line(), e.getKey(), first, total));
                }
            }
            out.sort((a, b) -> Integer.compare(a.line(), b.line()));
            return out.size() > limit ? List.copyOf(out.subList(0, limit)) : out;
        }

        /** Live streaming mappings at the end, per device. */
        public Map<String, Long> liveAtEndByDevice() {
            Map<String, Long> out = new TreeMap<>();
            for (Map.Entry<String, Dev> e : devs.entrySet()) {
                long n = e.getValue().sgs.size();
                LongObjectMap<Page> pages = e.getValue().pages;
                for (int i = 0; i < pages.slots(); i++) {
                    for (Page q = pages.valueAt(i); q != null; q = q.next()) {
                        n++;
                    }
                }
                if (n > 0) {
                    out.put(e.getKey(), n);
                }
            }
            return out;
        }

        /** Coherent allocations never freed, per device. */
        public Map<String, Long> coherentLiveByDevice() {
            Map<String, Long> out = new TreeMap<>();
            for (Map.Entry<String, Dev> e : devs.entrySet()) {
                long n = 0;
                for (int c : e.getValue().coherent.values()) {
                    n += c;
                }
                if (n > 0) {
                    out.put(e.getKey(), n);
                }
            }
            return out;
        }

        /** Devices the replay added because no input described them, with the rule that set them up. */
        public Map<String, String> inferredDevices() {
            return inferred;
        }

        public long modelFailures() {
            return modelFailures;
        }

        /** Mappings the kernel made that the model failed. */
        public long failuresKernelMade() {
            return failuresKernelMade;
        }

        public Failure firstFailure() {
            return firstFailure;
        }

        public long unmatchedUnmaps() {
            return unmatchedUnmaps;
        }

        public long unmatchedSyncs() {
            return unmatchedSyncs;
        }

        public long coherentAllocs() {
            return coherentAllocs;
        }

        public long coherentFrees() {
            return coherentFrees;
        }

        public long freesWithoutAlloc() {
            return freesWithoutAlloc;
        }

        public long nullFrees() {
            return nullFrees;
        }

        /** Coherent allocations whose IOVA the model made and compared (devices behind an IOMMU). */
        public long coherentCompared() {
            return coherentCompared;
        }

        /** Of {@link #coherentCompared}, those where the model's handle equals the kernel's. */
        public long coherentExact() {
            return coherentExact;
        }

        /** Peak used swiotlb slots of the default pool. */
        public long peakSwiotlbSlots() {
            return peakSwiotlb;
        }

        /** One-step adoptions that could not take the kernel's slots (they were still taken in the model). */
        public long adoptFailures() {
            return adoptFailures;
        }
    }
}
