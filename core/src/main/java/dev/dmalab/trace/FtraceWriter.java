package dev.dmalab.trace;

import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.DmaEvent;
import dev.dmalab.dma.DmaListener;
import dev.dmalab.dma.Gfp;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.KernelVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints the modelled kernel's traced events as {@code /sys/kernel/tracing/trace} would (spec §6.3; formats from
 * the captures' {@code formats/} files): the header, then one line per event with the standard prefix.
 *
 * <p>Which events appear, and in which form, follows the kernel version: a version without the {@code dma:*}
 * tracepoints prints only {@code swiotlb_bounced} and markers; 6.12.y prints {@code nents=/ents=} counts and
 * truncates {@code dma_map_sg} arrays at 128 entries, and {@code dir=} on {@code dma_alloc}/{@code dma_free}.
 * Pointers ({@code virt_addr=}) print unhashed, as with {@code no_hash_pointers}.
 *
 * <p>Lines are kept in memory until {@link #writeTo}, because the header states the number of entries.
 */
public final class FtraceWriter implements DmaListener {
    /** Arrays in {@code dma_map_sg} are cut at this many entries in 6.12.y. */
    public static final int SG_TRACE_MAX = 128;

    private final boolean y;
    private final int cpus;
    private final List<String> lines = new ArrayList<>();

    public FtraceWriter(KernelVersion version, int cpus) {
        this.y = version.has(Feature.DMA_TRACEPOINTS_6_12_Y);
        this.cpus = cpus;
    }

    @Override
    public void onEvent(DmaEvent e) {
        if (!e.traced()) {
            return;
        }
        String line = format(e);
        if (line != null) {
            lines.add(line);
        }
    }

    /** The event lines so far. */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    /** The standard ftrace line prefix: {@code %16s-%-7d [%03d] %s %5lu.%06lu: }. */
    static String prefix(DmaEvent.Stamp s) {
        long us = s.timeNs() / 1000;
        return String.format(
                java.util.Locale.ROOT,
                "%16s-%-7d [%03d] %s %5d.%06d: ",
                s.comm(),
                s.pid(),
                s.cpu(),
                s.flags(),
                us / 1_000_000,
                us % 1_000_000);
    }

    /** One event as a trace line (without newline), or null for events that have no tracepoint. */
    String format(DmaEvent e) {
        String body = body(e);
        return body == null ? null : prefix(e.stamp()) + body;
    }

    private String body(DmaEvent e) {
        if (e instanceof DmaEvent.Map m) {
            return (m.kind() == DmaEvent.MapKind.PAGE ? "dma_map_page: " : "dma_map_resource: ")
                    + m.device().name()
                    + " dir=" + m.dir().traceName() + " dma_addr=" + hex(m.dmaAddr()) + " size=" + m.size()
                    + " phys_addr=" + hex(m.phys()) + " attrs=" + DmaAttrs.traceString(m.attrs());
        }
        if (e instanceof DmaEvent.Unmap u) {
            return (u.kind() == DmaEvent.MapKind.PAGE ? "dma_unmap_page: " : "dma_unmap_resource: ")
                    + u.device().name() + " dir=" + u.dir().traceName() + " dma_addr=" + hex(u.dmaAddr()) + " size="
                    + u.size() + " attrs=" + DmaAttrs.traceString(u.attrs());
        }
        if (e instanceof DmaEvent.MapSg m) {
            return "dma_map_sg: " + m.device().name() + " dir=" + m.dir().traceName() + sgCounts(m) + " dma_addrs="
                    + array(m.dmaAddrs(), y) + " sizes=" + array(m.dmaLengths(), y) + " phys_addrs="
                    + array(m.phys(), y) + " attrs=" + DmaAttrs.traceString(m.attrs());
        }
        if (e instanceof DmaEvent.MapSgErr m) {
            return "dma_map_sg_err: " + m.device().name() + " dir=" + m.dir().traceName() + " dma_addrs="
                    + array(m.phys(), y) + " err=" + m.err() + " attrs=" + DmaAttrs.traceString(m.attrs());
        }
        if (e instanceof DmaEvent.UnmapSg u) {
            return "dma_unmap_sg: " + u.device().name() + " dir=" + u.dir().traceName() + " phys_addrs="
                    + array(u.phys(), false) + " attrs=" + DmaAttrs.traceString(u.attrs());
        }
        if (e instanceof DmaEvent.SyncSingle s) {
            return (s.forCpu() ? "dma_sync_single_for_cpu: " : "dma_sync_single_for_device: ")
                    + s.device().name() + " dir=" + s.dir().traceName() + " dma_addr=" + hex(s.dmaAddr()) + " size="
                    + s.size();
        }
        if (e instanceof DmaEvent.SyncSg s) {
            return (s.forCpu() ? "dma_sync_sg_for_cpu: " : "dma_sync_sg_for_device: ")
                    + s.device().name() + " dir="
                    + s.dir().traceName() + " dma_addrs=" + array(s.dmaAddrs(), false) + " sizes="
                    + array(s.lengths(), false);
        }
        if (e instanceof DmaEvent.Alloc a) {
            return (a.kind() == DmaEvent.AllocKind.PAGES ? "dma_alloc_pages: " : "dma_alloc: ")
                    + a.device().name()
                    + (y ? " dir=" + a.dir().traceName() : "") + " dma_addr=" + hex(a.dmaAddr()) + " size="
                    + a.size() + " virt_addr=" + pointer(a.cpuAddr()) + " flags=" + Gfp.traceString(a.gfp())
                    + " attrs=" + DmaAttrs.traceString(a.attrs());
        }
        if (e instanceof DmaEvent.Free f) {
            return (f.kind() == DmaEvent.AllocKind.PAGES ? "dma_free_pages: " : "dma_free: ")
                    + f.device().name()
                    + (y ? " dir=" + f.dir().traceName() : "") + " dma_addr=" + hex(f.dmaAddr()) + " size="
                    + f.size() + " virt_addr=" + pointer(f.cpuAddr()) + " attrs=" + DmaAttrs.traceString(f.attrs());
        }
        if (e instanceof DmaEvent.SwiotlbBounced b) {
            return "swiotlb_bounced: dev_name: " + b.device().name() + " dma_mask=" + hex(b.dmaMask()) + " dev_addr="
                    + hex(b.devAddr()) + " size=" + b.size() + " " + (b.force() ? "FORCE" : "NORMAL");
        }
        if (e instanceof DmaEvent.Marker m) {
            return "tracing_mark_write: " + m.text();
        }
        return null; // MappingErrorCheck: no tracepoint
    }

    private String sgCounts(DmaEvent.MapSg m) {
        if (!y) {
            return "";
        }
        boolean truncated = m.nents() > SG_TRACE_MAX || m.ents() > SG_TRACE_MAX;
        return " nents=" + Math.min(m.nents(), SG_TRACE_MAX) + "/" + m.nents() + " ents="
                + Math.min(m.ents(), SG_TRACE_MAX) + "/" + m.ents() + (truncated ? " [TRUNCATED]" : "");
    }

    private static String hex(long v) {
        return Long.toHexString(v);
    }

    private static String pointer(long v) {
        String h = Long.toHexString(v);
        return "0".repeat(Math.max(0, 16 - h.length())) + h;
    }

    private static String array(long[] values, boolean truncate) {
        int n = truncate ? Math.min(values.length, SG_TRACE_MAX) : values.length;
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append("0x").append(Long.toHexString(values[i]));
        }
        return sb.append('}').toString();
    }

    private static String array(int[] values, boolean truncate) {
        int n = truncate ? Math.min(values.length, SG_TRACE_MAX) : values.length;
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append("0x").append(Integer.toHexString(values[i]));
        }
        return sb.append('}').toString();
    }

    /** Writes the header and every line. */
    public void writeTo(Writer out) {
        try {
            out.write("# tracer: nop\n#\n");
            out.write("# entries-in-buffer/entries-written: " + lines.size() + "/" + lines.size() + "   #P:" + cpus
                    + "\n#\n");
            out.write("#                                _-----=> irqs-off/BH-disabled\n");
            out.write("#                               / _----=> need-resched\n");
            out.write("#                              | / _---=> hardirq/softirq\n");
            out.write("#                              || / _--=> preempt-depth\n");
            out.write("#                              ||| / _-=> migrate-disable\n");
            out.write("#                              |||| /     delay\n");
            out.write("#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n");
            out.write("#              | |         |   |||||     |         |\n");
            for (String l : lines) {
                out.write(l);
                out.write('\n');
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
