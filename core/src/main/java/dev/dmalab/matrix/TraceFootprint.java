package dev.dmalab.matrix;

import dev.dmalab.memory.PhysicalMemoryMap;
import dev.dmalab.platform.InputException;
import dev.dmalab.trace.FtraceParser;
import dev.dmalab.trace.TraceEvent;
import dev.dmalab.trace.TraceFormatException;
import dev.dmalab.trace.TraceRecord;
import dev.dmalab.util.Bits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The physical pages a trace's streaming mappings use, each with the first line that maps it: read once per
 * matrix, so that a platform that lacks them, or a CPU the trace runs on, is unsupported instead of replayed on addresses it does
 * not have (a trace's buffers are the traced machine's pages; an x86 capture's low pages are not RAM on an arm64
 * board whose RAM starts at 1 GiB).
 */
final class TraceFootprint {
    private static final int PAGE_SHIFT = 12;

    /** Page address → first line mapping it, in address order. */
    private final TreeMap<Long, Integer> pages = new TreeMap<>();

    private int maxCpu = -1;
    private int maxCpuLine;

    private TraceFootprint() {}

    /**
     * Reads the trace (malformed lines skipped).
     *
     * @throws InputException if it cannot be read
     */
    static TraceFootprint of(Path trace) {
        TraceFootprint f = new TraceFootprint();
        try (FtraceParser p = FtraceParser.open(trace, false)) {
            for (TraceRecord r = p.next(); r != null; r = p.next()) {
                if (r.cpu() > f.maxCpu) {
                    f.maxCpu = r.cpu();
                    f.maxCpuLine = r.line();
                }
                if (r.event() instanceof TraceEvent.Map m && !m.resource()) {
                    f.add(m.phys(), r.line());
                    f.add(m.phys() + Math.max(m.size(), 1) - 1, r.line());
                } else if (r.event() instanceof TraceEvent.MapSg sg) {
                    for (long pa : sg.phys()) {
                        f.add(pa, r.line());
                    }
                }
            }
        } catch (TraceFormatException e) {
            throw new InputException(e.file(), e.line(), null, e.reason());
        } catch (IOException | UncheckedIOException e) {
            throw new InputException(trace.toString(), 0, null, "cannot read: " + e.getMessage());
        }
        return f;
    }

    private void add(long pa, int line) {
        pages.putIfAbsent(pa >>> PAGE_SHIFT << PAGE_SHIFT, line);
    }

    /**
     * Why the trace does not fit a machine — a CPU it lacks, or the first page that is not RAM there — or null when
     * it fits.
     */
    String misfit(PhysicalMemoryMap map, int cpus, String platform) {
        if (maxCpu >= cpus) {
            return "the trace runs on CPU " + maxCpu + " (line " + maxCpuLine + "), " + platform + " has " + cpus
                    + (cpus == 1 ? " CPU" : " CPUs");
        }
        for (Map.Entry<Long, Integer> e : pages.entrySet()) {
            if (!map.isRam(e.getKey())) {
                return "the trace maps phys " + Bits.hex0x(e.getKey()) + " (line " + e.getValue() + "), not RAM on "
                        + platform;
            }
        }
        return null;
    }
}
