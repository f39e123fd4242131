package dev.dmalab.report;

import dev.dmalab.device.Device;
import dev.dmalab.dma.DmaEvent;
import dev.dmalab.dma.DmaListener;
import dev.dmalab.iommu.DmaIommu;
import dev.dmalab.platform.Machine;
import dev.dmalab.swiotlb.IoTlbMem;
import dev.dmalab.swiotlb.IoTlbPool;
import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a run did over simulated time, recorded for the report: a {@link DmaListener} on one machine that samples,
 * after every DMA API call, the machine state the call may have changed.
 *
 * <ul>
 *   <li><b>swiotlb slots in use, per area</b> of the default pool ({@code io_tlb_area.used}; with one area, the
 *       pool's {@code io_tlb_used}, which 5.0's global search also keeps);
 *   <li><b>IOVA space per IOMMU domain</b>: the granules the domain's IOVA tree holds as allocated — live mappings
 *       plus what waits in a flush queue or sits in a per-CPU magazine, since the tree counts those as taken;
 *   <li><b>bytes bounced per device</b>, copied into and out of bounce buffers during the recording;
 *   <li><b>mapping lifetimes</b>: for each streaming mapping (map to unmap) and coherent buffer (alloc to free), how
 *       long it lived, as a histogram per device, and the first {@value #GANTT_MAX} in full for a timeline chart.
 * </ul>
 *
 * <p>Memory stays bounded by what changes: series keep only their change points, lifetimes only the open mappings,
 * histogram counts and the first {@value #GANTT_MAX}. A run recorded from its start to {@link #finish()} is a pure
 * function of the run.
 *
 * <h2>Implementation notes</h2>
 *
 * Mappings are matched to their unmap by device and DMA address ({@code dma_unmap_page}) or by device and the first
 * entry's physical address ({@code dma_unmap_sg}, whose event prints only those); a driver that maps the same address
 * twice before unmapping it has its mappings closed last first. An unmap with no recorded mapping is ignored (the
 * checker reports it). Not modelled: swiotlb pools other than the default one (restricted-dma pools, 6.x's dynamic
 * pools), and a default pool replaced after the recording started.
 */
public final class Timeline implements DmaListener {
    /** How many mappings the timeline chart shows in full. */
    public static final int GANTT_MAX = 60;

    /** Lifetime histogram buckets: under 1 µs, then [2^(b-1), 2^b) µs, the last open-ended. */
    public static final int BUCKETS = 26;

    /** One mapping or coherent buffer, from its map (or alloc) to its unmap (or free); {@code endNs} -1 if live. */
    public record Lifetime(String device, String kind, long dmaAddr, long size, long startNs, long endNs) {}

    private record Key(Device device, long addr, boolean sg, boolean coherent) {}

    private static final class Open {
        final Device device;
        final String kind;
        final long dmaAddr;
        final long size;
        final long startNs;
        final int gantt;
        /** The next younger open mapping with the same key (the same buffer mapped again before its unmap). */
        Open younger;

        Open(Device device, String kind, long dmaAddr, long size, long startNs, int gantt) {
            this.device = device;
            this.kind = kind;
            this.dmaAddr = dmaAddr;
            this.size = size;
            this.startNs = startNs;
            this.gantt = gantt;
        }
    }

    private final Machine machine;
    private final long startNs;
    private final IoTlbPool pool;
    private final IoTlbMem mem;
    private final List<Series> swiotlb = new ArrayList<>();
    private final List<Series> iova = new ArrayList<>();
    private final List<DmaIommu.Domain> iovaDomains = new ArrayList<>();
    private final Map<String, long[]> bounceAtStart = new TreeMap<>();
    private final Map<Key, Open> open = new LinkedHashMap<>();
    private final Map<String, long[]> histogram = new TreeMap<>();
    private final List<Lifetime> gantt = new ArrayList<>();
    private final Map<String, Long> liveAtEnd = new TreeMap<>();
    private long mappings;
    private long events;
    private long endNs = -1;
    private long firstNs = -1;

    private Timeline(Machine machine) {
        this.machine = machine;
        this.startNs = machine.kernel().clock().nowNs();
        this.mem = machine.swiotlb().defaultMem();
        this.pool = mem.nslabs() == 0 ? null : mem.defpool();
        if (pool != null) {
            for (int a = 0; a < pool.nareas(); a++) {
                swiotlb.add(new Series(pool.nareas() == 1 ? "pool" : "area " + a, startNs, areaUsed(a)));
            }
        }
        for (Device d : machine.devices()) {
            bounceAtStart.put(d.name(), new long[] {d.bytesBouncedToDevice(), d.bytesBouncedFromDevice()});
        }
        sampleIova(startNs);
    }

    /** Starts recording {@code machine} from now: attaches itself to its events. */
    public static Timeline attach(Machine machine) {
        Timeline t = new Timeline(machine);
        machine.events().addListener(t);
        return t;
    }

    /** Ends the recording at the machine's current time and detaches from its events. Idempotent. */
    public Timeline finish() {
        if (endNs < 0) {
            machine.events().removeListener(this);
            // every event's stamp is the kernel clock's time, which never goes back: now is the latest
            endNs = machine.kernel().clock().nowNs();
            sample(endNs);
            for (Open o : open.values()) {
                for (Open x = o; x != null; x = x.younger) {
                    liveAtEnd.merge(x.device.name(), 1L, Long::sum);
                }
            }
        }
        return this;
    }

    private long areaUsed(int area) {
        return pool.nareas() == 1 ? mem.used() : pool.areaUsed(area);
    }

    @Override
    public void onEvent(DmaEvent e) {
        if (endNs >= 0) {
            return;
        }
        long t = e.stamp().timeNs();
        if (events++ == 0) {
            // the plots start at the first call, not at boot (a trace's first timestamp is seconds after it)
            firstNs = t;
            swiotlb.forEach(s -> s.restart(t));
            iova.forEach(s -> {
                if (s != null) {
                    s.restart(t);
                }
            });
        }
        if (e instanceof DmaEvent.Map m) {
            if (m.dmaAddr() != Bits.U64_MAX) {
                opened(
                        new Key(m.device(), m.dmaAddr(), false, false),
                        m.device(),
                        kindOf(m.kind()),
                        m.dmaAddr(),
                        m.size(),
                        t);
            }
        } else if (e instanceof DmaEvent.Unmap u) {
            closed(new Key(u.device(), u.dmaAddr(), false, false), t);
        } else if (e instanceof DmaEvent.MapSg s) {
            if (s.ents() > 0 && s.phys().length > 0) {
                long size = 0;
                for (int len : s.lengths()) {
                    size += len;
                }
                opened(new Key(s.device(), s.phys()[0], true, false), s.device(), "sg", s.dmaAddrs()[0], size, t);
            }
        } else if (e instanceof DmaEvent.UnmapSg u) {
            if (u.phys().length > 0) {
                closed(new Key(u.device(), u.phys()[0], true, false), t);
            }
        } else if (e instanceof DmaEvent.Alloc a) {
            if (a.cpuAddr() != 0) {
                opened(new Key(a.device(), a.dmaAddr(), false, true), a.device(), "coherent", a.dmaAddr(), a.size(), t);
            }
        } else if (e instanceof DmaEvent.Free f) {
            closed(new Key(f.device(), f.dmaAddr(), false, true), t);
        }
        sample(t);
    }

    private static String kindOf(DmaEvent.MapKind k) {
        return k == DmaEvent.MapKind.RESOURCE ? "resource" : "page";
    }

    private void opened(Key k, Device dev, String kind, long dmaAddr, long size, long t) {
        mappings++;
        int g = -1;
        if (gantt.size() < GANTT_MAX) {
            g = gantt.size();
            gantt.add(new Lifetime(dev.name(), kind, dmaAddr, size, t, -1));
        }
        Open o = new Open(dev, kind, dmaAddr, size, t, g);
        Open oldest = open.putIfAbsent(k, o);
        if (oldest != null) {
            Open last = oldest;
            while (last.younger != null) {
                last = last.younger;
            }
            last.younger = o;
        }
    }

    /**
     * An unmap or free ends the oldest open mapping with its key, as dma-debug's exact lookup and the replay find the
     * oldest of equal mappings.
     */
    private void closed(Key k, long t) {
        Open o = open.get(k);
        if (o == null) {
            return;
        }
        if (o.younger == null) {
            open.remove(k);
        } else {
            open.put(k, o.younger);
        }
        if (o.gantt >= 0) {
            Lifetime l = gantt.get(o.gantt);
            gantt.set(o.gantt, new Lifetime(l.device(), l.kind(), l.dmaAddr(), l.size(), l.startNs(), t));
        }
        if (!o.kind.equals("coherent")) {
            histogram.computeIfAbsent(o.device.name(), d -> new long[BUCKETS])[bucket(t - o.startNs)]++;
        }
    }

    /** The histogram bucket of a lifetime: 0 under 1 µs, b for [2^(b-1), 2^b) µs, the last open-ended. */
    public static int bucket(long ns) {
        long us = ns / 1000;
        if (us < 1) {
            return 0;
        }
        return Math.min(BUCKETS - 1, 64 - Long.numberOfLeadingZeros(us));
    }

    /** The label of histogram bucket {@code b}: {@code <1 µs}, {@code 1–2 µs}, ..., {@code ≥ 16.8 s}. */
    public static String bucketLabel(int b) {
        if (b == 0) {
            return "<1 µs";
        }
        long lo = 1L << (b - 1);
        if (b == BUCKETS - 1) {
            return "≥" + Html.time(lo * 1000);
        }
        return Html.time(lo * 1000) + "–" + Html.time((lo << 1) * 1000);
    }

    private void sample(long t) {
        for (int a = 0; a < swiotlb.size(); a++) {
            swiotlb.get(a).record(t, areaUsed(a));
        }
        sampleIova(t);
    }

    private void sampleIova(long t) {
        DmaIommu io = machine.iommu();
        if (io == null) {
            return;
        }
        List<DmaIommu.Domain> ds = io.domains();
        for (int i = iovaDomains.size(); i < ds.size(); i++) {
            DmaIommu.Domain d = ds.get(i);
            iovaDomains.add(d);
            iova.add(
                    d.iovad() == null
                            ? null
                            : new Series(
                                    "group " + d.group() + " (" + String.join(", ", d.devices()) + ")",
                                    t,
                                    d.iovad().allocatedPages() * d.iovad().granule()));
        }
        for (int i = 0; i < iova.size(); i++) {
            Series s = iova.get(i);
            if (s != null) {
                DmaIommu.Domain d = iovaDomains.get(i);
                s.record(t, d.iovad().allocatedPages() * d.iovad().granule());
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Results

    /** Where the plots' time axis starts: the first DMA call's time (the attach time if there was none). */
    public long startNs() {
        return firstNs >= 0 ? firstNs : startNs;
    }

    /** When {@link #finish()} ended the recording (-1 before). */
    public long endNs() {
        return endNs;
    }

    /** DMA events seen. */
    public long events() {
        return events;
    }

    /** Streaming mappings and coherent allocations made during the recording. */
    public long mappings() {
        return mappings;
    }

    /** The default swiotlb pool (null when the machine has none). */
    public IoTlbPool pool() {
        return pool;
    }

    /** Slots in use over time, one series per area of the default pool (empty without a pool). */
    public List<Series> swiotlbAreas() {
        return List.copyOf(swiotlb);
    }

    /** Bytes of IOVA space allocated over time, one series per translated IOMMU domain that allocated any. */
    public List<Series> iovaDomains() {
        List<Series> out = new ArrayList<>();
        for (Series s : iova) {
            if (s != null && s.max() > 0) {
                out.add(s);
            }
        }
        return out;
    }

    /** Whether the machine has an IOMMU with translated domains. */
    public boolean hasIova() {
        for (Series s : iova) {
            if (s != null) {
                return true;
            }
        }
        return false;
    }

    /**
     * Bytes bounced per device during the recording, {@code [into bounce buffers, out of them]}, devices by name;
     * devices that bounced nothing are left out.
     */
    public Map<String, long[]> bouncedBytes() {
        Map<String, long[]> out = new TreeMap<>();
        Map<String, Device> byName = new HashMap<>();
        for (Device d : machine.devices()) {
            byName.put(d.name(), d);
        }
        for (String name : new TreeMap<>(byName).keySet()) {
            Device d = byName.get(name);
            long[] base = bounceAtStart.getOrDefault(name, new long[2]);
            long to = d.bytesBouncedToDevice() - base[0];
            long from = d.bytesBouncedFromDevice() - base[1];
            if (to != 0 || from != 0) {
                out.put(name, new long[] {to, from});
            }
        }
        return out;
    }

    /** Streaming-mapping lifetimes per device (by name): counts per {@link #bucket} of the unmapped ones. */
    public Map<String, long[]> lifetimeHistogram() {
        Map<String, long[]> out = new TreeMap<>();
        histogram.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }

    /** The first {@value #GANTT_MAX} mappings and coherent buffers, in the order they were made. */
    public List<Lifetime> firstLifetimes() {
        return List.copyOf(gantt);
    }

    /** Mappings and coherent buffers still live when the recording finished, per device (after {@link #finish()}). */
    public Map<String, Long> liveAtEnd() {
        return new TreeMap<>(liveAtEnd);
    }
}
