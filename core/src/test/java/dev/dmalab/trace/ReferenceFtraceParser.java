package dev.dmalab.trace;

import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.Gfp;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The string-based parser that the byte-level {@link FtraceParser} replaced ({@code BufferedReader.readLine}, {@code
 * String.split}, {@code Long.parseUnsignedLong} on substrings), kept unchanged as the reference that {@link
 * FtraceParserDifferentialTest} holds the byte-level parser to: the same records, counts and messages on the
 * captures and on randomly damaged text.
 */
final class ReferenceFtraceParser implements AutoCloseable {
    private final String file;
    private final BufferedReader reader;
    private final boolean strict;
    private int lineNo;
    private long otherEvents;
    private long malformed;
    private final List<TraceFormatException> firstErrors = new ArrayList<>();

    ReferenceFtraceParser(String file, Reader reader, boolean strict) {
        this.file = file;
        this.reader = reader instanceof BufferedReader b ? b : new BufferedReader(reader, 1 << 16);
        this.strict = strict;
    }

    /** Events that are not DMA events (or function-tracer lines) seen so far. */
    public long otherEvents() {
        return otherEvents;
    }

    /** Lines skipped as unreadable (non-strict mode). */
    public long malformedLines() {
        return malformed;
    }

    /** The first few unreadable lines, for a report. */
    public List<TraceFormatException> firstErrors() {
        return List.copyOf(firstErrors);
    }

    /** The next record, or null at the end of the input. */
    public TraceRecord next() {
        while (true) {
            String line;
            try {
                line = reader.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(file + ":" + (lineNo + 1) + ": " + e.getMessage(), e);
            }
            if (line == null) {
                return null;
            }
            lineNo++;
            if (line.isBlank() || line.startsWith("#") || isTraceCmdHeader(line)) {
                continue;
            }
            try {
                TraceRecord r = parseLine(line);
                if (r.event() instanceof TraceEvent.Other) {
                    otherEvents++;
                }
                return r;
            } catch (TraceFormatException e) {
                if (strict) {
                    throw e;
                }
                malformed++;
                if (firstErrors.size() < 10) {
                    firstErrors.add(e);
                }
            }
        }
    }

    private TraceFormatException bad(String reason) {
        return new TraceFormatException(file, lineNo, reason);
    }

    /** Parses one non-comment line. */
    TraceRecord parseLine(String line) {
        // "<comm>-<pid> [<cpu>] <flags> <secs>.<usecs>: <event>: <payload>"; comm may contain '-' and spaces.
        int lb = line.indexOf(" [");
        while (lb >= 0) {
            int rb = line.indexOf(']', lb);
            if (rb > lb + 2 && isDigits(line, lb + 2, rb)) {
                break;
            }
            lb = line.indexOf(" [", lb + 2);
        }
        if (lb < 0) {
            throw bad("not an ftrace event line (no [cpu] column)");
        }
        String head = line.substring(0, lb).stripTrailing();
        int dash = head.lastIndexOf('-');
        if (dash <= 0 || !isDigits(head, dash + 1, head.length())) {
            throw bad("no task-pid before the [cpu] column");
        }
        String comm = head.substring(0, dash).strip();
        int pid = parseInt(head.substring(dash + 1), "pid");
        int rb = line.indexOf(']', lb);
        int cpu = parseInt(line.substring(lb + 2, rb), "cpu");
        int p = rb + 1;
        while (p < line.length() && line.charAt(p) == ' ') {
            p++;
        }
        int flagsEnd = line.indexOf(' ', p);
        if (flagsEnd < 0) {
            throw bad("line ends after the [cpu] column");
        }
        String flags;
        if (isTimestampColon(line, p, flagsEnd)) {
            flags = ""; // trace-cmd report without -l: no irq-flags column
        } else {
            flags = line.substring(p, flagsEnd);
            p = flagsEnd;
            while (p < line.length() && line.charAt(p) == ' ') {
                p++;
            }
        }
        int colon = line.indexOf(": ", p);
        if (colon < 0) {
            throw bad("no timestamp");
        }
        long ts = parseTimestamp(line.substring(p, colon));
        int nameStart = colon + 2;
        int nameEnd = line.indexOf(": ", nameStart);
        String rest = line.substring(nameStart);
        String name;
        String payload;
        if (nameEnd < 0 || line.substring(nameStart, nameEnd).contains(" ")) {
            // function tracer ("xen_swiotlb_map_page <-dma_map_page_attrs") or an event without payload
            name = rest.endsWith(":") ? rest.substring(0, rest.length() - 1) : "function";
            payload = rest;
        } else {
            name = line.substring(nameStart, nameEnd);
            int from = nameEnd + 2;
            if (!name.equals("tracing_mark_write")) {
                // trace-cmd pads the event name; ftrace's dma and swiotlb payloads never start with a space
                while (from < line.length() && line.charAt(from) == ' ') {
                    from++;
                }
            }
            payload = line.substring(from);
            if (name.equals("print") && payload.startsWith("tracing_mark_write: ")) {
                // trace-cmd shows a marker as ftrace's print event, whose format prints the writer's ip first
                name = "tracing_mark_write";
                payload = payload.substring("tracing_mark_write: ".length());
            }
        }
        return new TraceRecord(
                lineNo, comm, pid, cpu, flags, ts, name, parsePayload(name, payload), TraceLine.of(line));
    }

    /** Whether {@code s[from, to)} is {@code seconds.fraction:}, the timestamp of a line with no flags column. */
    private static boolean isTimestampColon(String s, int from, int to) {
        if (to - from < 4 || s.charAt(to - 1) != ':') {
            return false;
        }
        int dot = s.indexOf('.', from);
        return dot > from && dot < to - 2 && isDigits(s, from, dot) && isDigits(s, dot + 1, to - 1);
    }

    /** {@code trace-cmd report}'s lines before the events: {@code cpus=2}, {@code version = 6}, {@code CPU 1 is empty}. */
    private static boolean isTraceCmdHeader(String line) {
        return line.startsWith("cpus=")
                || line.startsWith("version = ")
                || (line.startsWith("CPU ") && line.endsWith(" is empty"));
    }

    private static boolean isDigits(String s, int from, int to) {
        if (to <= from) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (!Character.isDigit(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** A decimal column of the prefix that must fit an int. */
    private int parseInt(String digits, String what) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw bad(what + " " + digits + " is out of range");
        }
    }

    private long parseTimestamp(String t) {
        int dot = t.indexOf('.');
        if (dot <= 0 || !isDigits(t, 0, dot) || !isDigits(t, dot + 1, t.length()) || t.length() - dot - 1 > 9) {
            throw bad("bad timestamp '" + t + "'");
        }
        try {
            long secs = Long.parseLong(t.substring(0, dot));
            String frac = t.substring(dot + 1);
            long ns = Long.parseLong(frac);
            for (int i = frac.length(); i < 9; i++) {
                ns *= 10;
            }
            return Math.addExact(Math.multiplyExact(secs, 1_000_000_000L), ns);
        } catch (NumberFormatException | ArithmeticException e) {
            throw bad("timestamp '" + t + "' is out of range");
        }
    }

    private TraceEvent parsePayload(String name, String payload) {
        return switch (name) {
            case "dma_map_page", "dma_map_resource", "dma_map_phys" -> {
                Fields f = fields(payload);
                yield new TraceEvent.Map(
                        f.device,
                        f.dir(),
                        f.hex("dma_addr"),
                        f.dec("size"),
                        f.hex("phys_addr"),
                        f.attrs(),
                        name.equals("dma_map_resource"));
            }
            case "dma_unmap_page", "dma_unmap_resource", "dma_unmap_phys" -> {
                Fields f = fields(payload);
                yield new TraceEvent.Unmap(
                        f.device,
                        f.dir(),
                        f.hex("dma_addr"),
                        f.dec("size"),
                        f.attrs(),
                        name.equals("dma_unmap_resource"));
            }
            case "dma_map_sg" -> {
                Fields f = fields(payload);
                long[] dma = f.array("dma_addrs");
                long[] sizes = f.array("sizes");
                long[] phys = f.array("phys_addrs");
                int nents = phys.length;
                int ents = dma.length;
                String n = f.opt("nents");
                String e = f.opt("ents");
                if (n != null) {
                    nents = fullCount(n, "nents");
                }
                if (e != null) {
                    ents = fullCount(e, "ents");
                }
                if (sizes.length != dma.length) {
                    throw bad("dma_map_sg: " + dma.length + " dma_addrs but " + sizes.length + " sizes");
                }
                yield new TraceEvent.MapSg(f.device, f.dir(), nents, ents, f.truncated, dma, sizes, phys, f.attrs());
            }
            case "dma_map_sg_err" -> {
                Fields f = fields(payload);
                yield new TraceEvent.MapSgErr(
                        f.device, f.dir(), f.array("dma_addrs"), (int) f.decSigned("err"), f.attrs());
            }
            case "dma_unmap_sg" -> {
                Fields f = fields(payload);
                yield new TraceEvent.UnmapSg(f.device, f.dir(), f.array("phys_addrs"), f.attrs());
            }
            case "dma_sync_single_for_cpu", "dma_sync_single_for_device" -> {
                Fields f = fields(payload);
                yield new TraceEvent.Sync(f.device, name.endsWith("cpu"), f.dir(), f.hex("dma_addr"), f.dec("size"));
            }
            case "dma_sync_sg_for_cpu", "dma_sync_sg_for_device" -> {
                Fields f = fields(payload);
                yield new TraceEvent.SyncSg(
                        f.device, name.endsWith("cpu"), f.dir(), f.array("dma_addrs"), f.array("sizes"));
            }
            case "dma_alloc", "dma_alloc_pages", "dma_alloc_sgt_err" -> {
                Fields f = fields(payload);
                Direction dir = f.opt("dir") == null ? null : f.dir();
                long virt = f.opt("virt_addr") == null ? -1 : f.hex("virt_addr");
                long phys = f.opt("phys_addr") == null ? -1 : f.hex("phys_addr");
                yield new TraceEvent.Alloc(
                        f.device,
                        !name.equals("dma_alloc"),
                        dir,
                        f.hex("dma_addr"),
                        f.dec("size"),
                        virt,
                        phys,
                        f.gfp(),
                        f.attrs());
            }
            case "dma_free", "dma_free_pages" -> {
                Fields f = fields(payload);
                Direction dir = f.opt("dir") == null ? null : f.dir();
                long virt = f.opt("virt_addr") == null ? -1 : f.hex("virt_addr");
                long phys = f.opt("phys_addr") == null ? -1 : f.hex("phys_addr");
                yield new TraceEvent.Free(
                        f.device,
                        name.equals("dma_free_pages"),
                        dir,
                        f.hex("dma_addr"),
                        f.dec("size"),
                        virt,
                        phys,
                        f.attrs());
            }
            case "swiotlb_bounced" -> {
                if (!payload.startsWith("dev_name: ")) {
                    throw bad("swiotlb_bounced: expected 'dev_name: '");
                }
                Fields f = fields(payload.substring("dev_name: ".length()));
                String last = f.tokens[f.tokens.length - 1];
                boolean force;
                switch (last) {
                    case "FORCE" -> force = true;
                    case "NORMAL" -> force = false;
                    default -> throw bad("swiotlb_bounced: expected FORCE or NORMAL at the end, got " + last);
                }
                yield new TraceEvent.SwiotlbBounced(
                        f.device, f.hex("dma_mask"), f.hex("dev_addr"), f.dec("size"), force);
            }
            case "tracing_mark_write" -> new TraceEvent.Marker(payload);
            default -> new TraceEvent.Other(name, payload);
        };
    }

    private int fullCount(String v, String key) {
        int slash = v.indexOf('/');
        try {
            return Integer.parseInt(slash < 0 ? v : v.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw bad(key + "=" + v + " is not a count");
        }
    }

    private Fields fields(String payload) {
        return new Fields(payload.split(" "));
    }

    /** The {@code key=value} tokens after the device name. */
    private final class Fields {
        final String device;
        final String[] tokens;
        boolean truncated;

        Fields(String[] tokens) {
            if (tokens.length == 0 || tokens[0].isEmpty() || tokens[0].contains("=")) {
                throw bad("missing device name");
            }
            this.device = tokens[0];
            this.tokens = tokens;
            for (String t : tokens) {
                if (t.equals("[TRUNCATED]")) {
                    truncated = true;
                }
            }
        }

        String opt(String key) {
            String prefix = key + "=";
            for (int i = 1; i < tokens.length; i++) {
                if (tokens[i].startsWith(prefix)) {
                    return tokens[i].substring(prefix.length());
                }
            }
            return null;
        }

        String req(String key) {
            String v = opt(key);
            if (v == null) {
                throw bad("missing field " + key + "=");
            }
            return v;
        }

        long hex(String key) {
            String v = req(key);
            try {
                return Long.parseUnsignedLong(v.startsWith("0x") ? v.substring(2) : v, 16);
            } catch (NumberFormatException e) {
                throw bad(key + "=" + v + " is not a hex address");
            }
        }

        long dec(String key) {
            String v = req(key);
            try {
                return Long.parseUnsignedLong(v);
            } catch (NumberFormatException e) {
                throw bad(key + "=" + v + " is not a decimal size");
            }
        }

        long decSigned(String key) {
            String v = req(key);
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw bad(key + "=" + v + " is not a number");
            }
        }

        Direction dir() {
            String v = req("dir");
            try {
                return Direction.parse(v);
            } catch (IllegalArgumentException e) {
                throw bad("dir=" + v + " is not a DMA direction");
            }
        }

        long attrs() {
            String v = opt("attrs");
            if (v == null) {
                return 0;
            }
            try {
                return DmaAttrs.parse(v);
            } catch (IllegalArgumentException e) {
                throw bad("attrs=" + v + ": " + e.getMessage());
            }
        }

        int gfp() {
            String v = req("flags");
            try {
                return Gfp.parse(v);
            } catch (IllegalArgumentException e) {
                throw bad("flags=" + v + ": " + e.getMessage());
            }
        }

        long[] array(String key) {
            String v = req(key);
            if (!v.startsWith("{") || !v.endsWith("}")) {
                throw bad(key + " is not an array {...}");
            }
            String body = v.substring(1, v.length() - 1);
            if (body.isEmpty()) {
                return new long[0];
            }
            String[] parts = body.split(",");
            long[] out = new long[parts.length];
            for (int i = 0; i < parts.length; i++) {
                String x = parts[i];
                try {
                    out[i] = Long.parseUnsignedLong(x.startsWith("0x") ? x.substring(2) : x, 16);
                } catch (NumberFormatException e) {
                    throw bad(key + "[" + i + "]=" + x + " is not hex");
                }
            }
            return out;
        }
    }

    @Override
    public void close() {
        try {
            reader.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
