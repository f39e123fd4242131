package dev.dmalab.trace;

import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.dma.DmaEvent;
import dev.dmalab.testing.Captures;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Test helper: reads the vendored captures line by line and rebuilds the {@link DmaEvent} a parsed line reports. */
final class CaptureLines {
    /** The six vendored captures, relative to {@code testdata/captures}. */
    static final List<String> ALL = List.of(
            "x86-q35/direct-2g",
            "x86-q35/swiotlb-force",
            "x86-q35/iommu-strict",
            "arm64-virt/arm64-native",
            "arm64-virt/arm64-native-swiotlb-force-32M",
            "arm64-virt/xen-arm64-dom0");

    static final List<String> X86 = ALL.subList(0, 3);

    private CaptureLines() {}

    static Path trace(String capture) {
        return Captures.dir(capture).resolve("trace.txt.xz");
    }

    /** One raw line (number, text) of a capture. */
    record Raw(int lineNo, String text) {}

    /** Calls {@code sink} for every raw line of {@code capture}, header included. */
    static void forEachRawLine(String capture, Consumer<Raw> sink) {
        try (BufferedReader r = new BufferedReader(FtraceParser.openText(trace(capture)), 1 << 16)) {
            int n = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                sink.accept(new Raw(++n, line));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A strict parser for single lines (its reader is never read). */
    static FtraceParser lineParser(String file) {
        return new FtraceParser(file, new StringReader(""), true);
    }

    /** Rebuilds DmaEvents from parsed records, with one {@link Device} per device name. */
    static final class Rebuilder {
        private final Map<String, Device> devices = new HashMap<>();
        private final Device markerDevice = new Device("marker", BusType.PLATFORM);

        Device device(String name) {
            return devices.computeIfAbsent(name, n -> new Device(n, BusType.PCI));
        }

        /** The event of {@code r}, or null for events FtraceWriter does not print (function-tracer lines, others). */
        DmaEvent rebuild(TraceRecord r) {
            DmaEvent.Stamp s = new DmaEvent.Stamp(r.timestampNs(), r.cpu(), r.comm(), r.pid(), r.flags());
            TraceEvent e = r.event();
            if (e instanceof TraceEvent.Map m) {
                return new DmaEvent.Map(
                        s,
                        device(m.device()),
                        true,
                        m.resource() ? DmaEvent.MapKind.RESOURCE : DmaEvent.MapKind.PAGE,
                        m.dir(),
                        m.dmaAddr(),
                        m.size(),
                        m.phys(),
                        m.attrs());
            }
            if (e instanceof TraceEvent.Unmap u) {
                return new DmaEvent.Unmap(
                        s,
                        device(u.device()),
                        true,
                        u.resource() ? DmaEvent.MapKind.RESOURCE : DmaEvent.MapKind.PAGE,
                        u.dir(),
                        u.dmaAddr(),
                        u.size(),
                        u.attrs());
            }
            if (e instanceof TraceEvent.MapSg m) {
                // A truncated line shows the first 128 entries of nents/ents; the rest are unknown (and not printed).
                long[] phys = Arrays.copyOf(m.phys(), m.nents());
                long[] dma = Arrays.copyOf(m.dmaAddrs(), m.ents());
                int[] dmaLengths = new int[m.ents()];
                for (int i = 0; i < m.sizes().length; i++) {
                    dmaLengths[i] = Math.toIntExact(m.sizes()[i]);
                }
                return new DmaEvent.MapSg(
                        s,
                        device(m.device()),
                        true,
                        m.dir(),
                        m.nents(),
                        m.ents(),
                        phys,
                        new int[m.nents()],
                        dma,
                        dmaLengths,
                        m.attrs());
            }
            if (e instanceof TraceEvent.MapSgErr m) {
                return new DmaEvent.MapSgErr(s, device(m.device()), true, m.dir(), m.phys(), m.err(), m.attrs());
            }
            if (e instanceof TraceEvent.UnmapSg u) {
                return new DmaEvent.UnmapSg(s, device(u.device()), true, u.dir(), u.phys(), u.phys().length, u.attrs());
            }
            if (e instanceof TraceEvent.Sync y) {
                return new DmaEvent.SyncSingle(s, device(y.device()), true, y.forCpu(), y.dir(), y.dmaAddr(), y.size());
            }
            if (e instanceof TraceEvent.SyncSg y) {
                int[] lengths = new int[y.sizes().length];
                for (int i = 0; i < lengths.length; i++) {
                    lengths[i] = Math.toIntExact(y.sizes()[i]);
                }
                return new DmaEvent.SyncSg(s, device(y.device()), true, y.forCpu(), y.dir(), y.dmaAddrs(), lengths);
            }
            if (e instanceof TraceEvent.Alloc a) {
                return new DmaEvent.Alloc(
                        s,
                        device(a.device()),
                        true,
                        a.pages() ? DmaEvent.AllocKind.PAGES : DmaEvent.AllocKind.COHERENT,
                        a.dir(),
                        a.dmaAddr(),
                        a.size(),
                        a.virt(),
                        a.phys(),
                        a.gfp(),
                        a.attrs());
            }
            if (e instanceof TraceEvent.Free f) {
                return new DmaEvent.Free(
                        s,
                        device(f.device()),
                        true,
                        f.pages() ? DmaEvent.AllocKind.PAGES : DmaEvent.AllocKind.COHERENT,
                        f.dir(),
                        f.dmaAddr(),
                        f.size(),
                        f.virt(),
                        f.attrs());
            }
            if (e instanceof TraceEvent.SwiotlbBounced b) {
                return new DmaEvent.SwiotlbBounced(
                        s, device(b.device()), true, b.dmaMask(), b.devAddr(), b.size(), b.force());
            }
            if (e instanceof TraceEvent.Marker m) {
                return new DmaEvent.Marker(s, markerDevice, true, m.text());
            }
            return null;
        }
    }
}
