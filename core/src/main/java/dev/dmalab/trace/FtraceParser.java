package dev.dmalab.trace;

import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.Gfp;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * Reads ftrace text ({@code /sys/kernel/tracing/trace} or {@code trace_pipe}) line by line, in constant memory:
 * the standard prefix ({@code comm-pid [cpu] flags seconds.micros: event: payload}) and the payloads of every
 * {@code dma:*} event of 6.12.0 and 6.12.y, {@code swiotlb:swiotlb_bounced} and {@code tracing_mark_write}. Other
 * events and function-tracer lines are returned as {@link TraceEvent.Other} and counted.
 *
 * <p>A line that cannot be read is either skipped and counted (the default) or, in strict mode, reported by a
 * {@link TraceFormatException} naming the file, line and reason.
 *
 * <p>The {@code trace-cmd report} layout is read as well: no irq-flags column unless {@code -l} was given (the
 * column after {@code [cpu]} is then the timestamp), event names padded with spaces before the payload, markers as
 * the {@code print} event ({@code print: tracing_mark_write: TEXT}), and its header lines ({@code cpus=N}, {@code
 * version = N}, {@code CPU N is empty}) skipped like ftrace's comments.
 *
 * <p>Lines end at {@code \n}, {@code \r} or {@code \r\n}, as {@link java.io.BufferedReader#readLine} ends them; the
 * text is UTF-8 (malformed bytes read as U+FFFD).
 *
 * <p>Newer events: {@code dma_map_phys} / {@code dma_unmap_phys} (6.17) read as maps and unmaps ({@code MMIO}
 * ones as resource mappings), {@code dma_alloc_sgt} / {@code dma_free_sgt} (6.13) as {@link TraceEvent.AllocSgt} /
 * {@link TraceEvent.FreeSgt}. Partial: of the attribute names kernels after 6.17 print, only {@code MMIO} is known; a
 * line with another unknown one ({@code CACHELINES_OVERLAP}, {@code REQUIRE_COHERENT}, {@code CC_SHARED}, ...) is
 * malformed (reported, and skipped unless strict).
 *
 * <h2>Implementation notes</h2>
 *
 * The parser works on bytes: it reads the input into buffers of {@value #BUFFER_BYTES} bytes and parses each line
 * where it lies, with no string per line or per field. Numbers are read digit by digit from the bytes; names that
 * recur on every line (task, device, event, flags, direction, attributes, GFP flags) are decoded once and found again
 * by their bytes ({@link Utf8Cache}); a record's line is kept as its bytes ({@link TraceLine}) and decoded only when
 * quoted. A full buffer is never written again, because records point into it: the next read goes into a new buffer
 * that starts with the unfinished line (and is twice that line's length if the line does not fit).
 *
 * <p>Every delimiter of the format is ASCII, and UTF-8 never uses an ASCII byte inside a multi-byte character, so a
 * byte position found by searching for a delimiter is the position of that character in the text. Each field has a
 * fast path for the plain ASCII the kernel prints; anything else in a field (a sign, a digit outside ASCII, a number
 * too long for the fast path, an error) is decoded and read by the same {@code java.lang} methods as before ({@code
 * Long.parseUnsignedLong}, {@code Integer.parseInt}, {@code Character.isDigit}, {@code String.strip}), so the
 * results and the messages are those of a parser over decoded text.
 */
public final class FtraceParser implements AutoCloseable {
    /** Bytes read from the input at a time. */
    static final int BUFFER_BYTES = 1 << 17;

    private static final String MARKER = "tracing_mark_write";
    private static final byte[] MARKER_PREFIX = bytes(MARKER + ": ");
    private static final byte[] DEV_NAME = bytes("dev_name: ");
    private static final byte[] TRUNCATED = bytes("[TRUNCATED]");
    private static final byte[] FORCE = bytes("FORCE");
    private static final byte[] NORMAL = bytes("NORMAL");
    private static final byte[] CPUS = bytes("cpus=");
    private static final byte[] VERSION = bytes("version = ");
    private static final byte[] CPU = bytes("CPU ");
    private static final byte[] IS_EMPTY = bytes(" is empty");

    /** The payload fields read, by index; {@link #KEY_BYTES} holds the same names as bytes. */
    private static final String[] KEYS = {
        "dir",
        "dma_addr",
        "size",
        "phys_addr",
        "attrs",
        "nents",
        "ents",
        "dma_addrs",
        "sizes",
        "phys_addrs",
        "err",
        "virt_addr",
        "flags",
        "dma_mask",
        "dev_addr"
    };

    private static final int DIR = 0;
    private static final int DMA_ADDR = 1;
    private static final int SIZE = 2;
    private static final int PHYS_ADDR = 3;
    private static final int ATTRS = 4;
    private static final int NENTS = 5;
    private static final int ENTS = 6;
    private static final int DMA_ADDRS = 7;
    private static final int SIZES = 8;
    private static final int PHYS_ADDRS = 9;
    private static final int ERR = 10;
    private static final int VIRT_ADDR = 11;
    private static final int FLAGS = 12;
    private static final int DMA_MASK = 13;
    private static final int DEV_ADDR = 14;

    private static final byte[][] KEY_BYTES = new byte[KEYS.length][];

    /** The keys by their length in bytes. */
    private static final int[][] KEYS_BY_LENGTH = new int[16][];

    /** Each key's first eight bytes as a little-endian word, the mask of those of its bytes, and the bytes after. */
    private static final long[] KEY_WORDS = new long[KEYS.length];

    private static final long[] KEY_MASKS = new long[KEYS.length];
    private static final byte[][] KEY_TAILS = new byte[KEYS.length][];

    /** A hex digit's value by byte, -1 for a byte that is not one (what {@code Character.digit(c, 16)} gives). */
    private static final byte[] HEX = new byte[256];

    /** Eight bytes of a byte array as a little-endian long (byte {@code i} in the low bits). */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** ASCII bytes that {@link Character#isWhitespace} accepts. */
    private static final boolean[] ASCII_WHITESPACE = new boolean[128];

    static {
        for (int i = 0; i < KEYS.length; i++) {
            KEY_BYTES[i] = bytes(KEYS[i]);
            int head = Math.min(Long.BYTES, KEY_BYTES[i].length);
            for (int j = 0; j < head; j++) {
                KEY_WORDS[i] |= (KEY_BYTES[i][j] & 0xffL) << (8 * j);
                KEY_MASKS[i] |= 0xffL << (8 * j);
            }
            KEY_TAILS[i] = Arrays.copyOfRange(KEY_BYTES[i], head, KEY_BYTES[i].length);
        }
        for (int n = 0; n < KEYS_BY_LENGTH.length; n++) {
            int len = n;
            KEYS_BY_LENGTH[n] = java.util.stream.IntStream.range(0, KEYS.length)
                    .filter(k -> KEY_BYTES[k].length == len)
                    .toArray();
        }
        for (int c = 0; c < 256; c++) {
            HEX[c] = (byte) (c < 128 ? Character.digit(c, 16) : -1);
        }
        for (int c = 0; c < 128; c++) {
            ASCII_WHITESPACE[c] = Character.isWhitespace(c);
        }
    }

    private final String file;
    private final InputStream in;
    private final boolean strict;
    private final int bufferBytes;
    private int lineNo;
    private long otherEvents;
    private long malformed;
    private final List<TraceFormatException> firstErrors = new ArrayList<>();

    // Input. buf[pos, limit) is read and not yet returned as lines; the search for the next line end resumes at scan.
    // Bytes below limit are never written again (records point into them).
    private byte[] buf = new byte[0];
    private int pos;
    private int limit;
    private int scan;
    private boolean eof;
    /** The last line ended with '\r': a '\n' right after it is part of that line end. */
    private boolean skipLf;

    // The line being parsed: b[lineStart, lineEnd).
    private byte[] b;
    private int lineStart;
    private int lineEnd;

    // The payload: per key, the value of its first "key=value" token (valFrom -1: absent); its last non-empty token.
    private final int[] valFrom = new int[KEYS.length];
    private final int[] valTo = new int[KEYS.length];
    private int lastFrom;
    private int lastTo;
    private String device;
    private boolean truncated;
    /** Where {@link #array} collects an array's elements. */
    private long[] scratch = new long[256];
    /** The value of the last successful fast-path number read. */
    private long number;

    private final Utf8Cache<String> comms = new Utf8Cache<>(256, String::strip);
    /** Event names, interned: the payload's switch then finds its case by identity. */
    private final Utf8Cache<String> names = new Utf8Cache<>(64, String::intern);

    private final Utf8Cache<String> flagColumns = new Utf8Cache<>(64, s -> s);
    private final Utf8Cache<String> devices = new Utf8Cache<>(64, s -> s);
    private final Utf8Cache<Direction> directions = new Utf8Cache<>(16, Direction::parse);
    private final Utf8Cache<Long> attrWords = new Utf8Cache<>(32, DmaAttrs::parse);
    private final Utf8Cache<Integer> gfpWords = new Utf8Cache<>(32, Gfp::parse);

    /** A parser of the UTF-8 text {@code in}, which it closes. */
    public FtraceParser(String file, InputStream in, boolean strict) {
        this(file, in, strict, BUFFER_BYTES);
    }

    /** A parser of the text {@code reader} gives (as UTF-8; a lone surrogate reads as '?'), which it closes. */
    public FtraceParser(String file, Reader reader, boolean strict) {
        this(file, new Utf8Bytes(reader), strict, BUFFER_BYTES);
    }

    /** With a given read size: the tests use tiny buffers to put every line across a buffer boundary. */
    FtraceParser(String file, InputStream in, boolean strict, int bufferBytes) {
        if (bufferBytes <= 0) {
            throw new IllegalArgumentException("bufferBytes must be positive, got " + bufferBytes);
        }
        this.file = file;
        this.in = in;
        this.strict = strict;
        this.bufferBytes = bufferBytes;
    }

    /** Opens {@code path}, decompressing {@code .xz} and {@code .gz} transparently. */
    public static FtraceParser open(Path path, boolean strict) throws IOException {
        return new FtraceParser(path.toString(), openBytes(path), strict);
    }

    /** The bytes of {@code path}, decompressing {@code .xz} and {@code .gz}. */
    public static InputStream openBytes(Path path) throws IOException {
        InputStream in = Files.newInputStream(path);
        String n = path.getFileName().toString();
        if (n.endsWith(".xz")) {
            in = new XZInputStream(new BufferedInputStream(in, 1 << 16));
        } else if (n.endsWith(".gz")) {
            in = new GZIPInputStream(in, 1 << 16);
        }
        return in;
    }

    /** A UTF-8 reader over {@code path}, decompressing {@code .xz} and {@code .gz}. */
    public static Reader openText(Path path) throws IOException {
        return new InputStreamReader(openBytes(path), StandardCharsets.UTF_8);
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
        while (nextLine()) {
            lineNo++;
            if (skipped()) {
                continue;
            }
            try {
                TraceRecord r = parseLine();
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
        return null;
    }

    // -------------------------------------------------------------------------------------------------------------
    // Lines

    /** Finds the next line and points {@link #b}, {@link #lineStart} and {@link #lineEnd} at it; false at the end. */
    private boolean nextLine() {
        while (true) {
            if (skipLf) {
                if (pos == limit && !eof) {
                    fill();
                    continue;
                }
                skipLf = false;
                if (pos < limit && buf[pos] == '\n') {
                    pos++;
                    scan = Math.max(scan, pos);
                }
            }
            byte[] a = buf;
            int i = lineEnd(a, scan, limit);
            if (i < limit) {
                setLine(a, pos, i);
                pos = i + 1;
                scan = pos;
                skipLf = a[i] == '\r';
                return true;
            }
            scan = limit;
            if (eof) {
                if (pos == limit) {
                    return false;
                }
                setLine(a, pos, limit);
                pos = limit;
                return true;
            }
            fill();
        }
    }

    /**
     * The position of the first {@code \n} or {@code \r} in {@code a[from, to)}, or {@code to}: eight bytes at a time.
     * A byte of {@code x} is below {@code c} (a bound up to 0x80) where {@code (x - c * 0x01..01) & ~x & 0x80..80}
     * has its top bit; the lowest such bit is exact, higher ones may come from a borrow.
     */
    private static int lineEnd(byte[] a, int from, int to) {
        int i = from;
        while (i + Long.BYTES <= to) {
            // the first byte below 0x0e (so '\n', '\r', a tab, ...) of eight: exact at the lowest flag, as above
            long x = (long) LONGS.get(a, i);
            long below = (x - 0x0e0e0e0e0e0e0e0eL) & ~x & 0x8080808080808080L;
            if (below == 0) {
                i += Long.BYTES;
                continue;
            }
            i += Long.numberOfTrailingZeros(below) >>> 3;
            if (a[i] == '\n' || a[i] == '\r') {
                return i;
            }
            i++;
        }
        for (; i < to; i++) {
            if (a[i] == '\n' || a[i] == '\r') {
                return i;
            }
        }
        return to;
    }

    private void setLine(byte[] a, int from, int to) {
        b = a;
        lineStart = from;
        lineEnd = to;
    }

    /** Reads more input: into the current buffer's free tail, or into a new buffer that starts with the open line. */
    private void fill() {
        if (limit == buf.length) {
            int carried = limit - pos;
            byte[] next = new byte[Math.max(bufferBytes, 2 * carried)];
            System.arraycopy(buf, pos, next, 0, carried);
            scan -= pos;
            limit = carried;
            pos = 0;
            buf = next;
        }
        int n;
        try {
            n = in.read(buf, limit, buf.length - limit);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ":" + (lineNo + 1) + ": " + e.getMessage(), e);
        }
        if (n < 0) {
            eof = true;
        } else {
            limit += n;
        }
    }

    /** Blank lines, comments and {@code trace-cmd report}'s header ({@code cpus=2}, {@code CPU 1 is empty}). */
    private boolean skipped() {
        int from = lineStart;
        int to = lineEnd;
        if (isBlank(from, to)) {
            return true;
        }
        return switch (b[from]) {
            case '#' -> true;
            case 'c' -> startsWith(from, to, CPUS);
            case 'v' -> startsWith(from, to, VERSION);
            case 'C' -> startsWith(from, to, CPU)
                    && to - from >= IS_EMPTY.length
                    && startsWith(to - IS_EMPTY.length, to, IS_EMPTY);
            default -> false;
        };
    }

    /** {@link String#isBlank} of {@code b[from, to)}. */
    private boolean isBlank(int from, int to) {
        if (to > from && b[to - 1] > ' ') {
            return false; // ends in ASCII that is not whitespace (every whitespace byte is at most ' ')
        }
        for (int i = from; i < to; i++) {
            byte c = b[i];
            if (c < 0) {
                return text(from, to).isBlank();
            }
            if (!ASCII_WHITESPACE[c]) {
                return false;
            }
        }
        return true;
    }

    // -------------------------------------------------------------------------------------------------------------
    // The prefix

    /** Parses {@code line}, as the current line would be (for tests of single lines). */
    TraceRecord parseLine(String line) {
        byte[] a = line.getBytes(StandardCharsets.UTF_8);
        setLine(a, 0, a.length);
        return parseLine();
    }

    private TraceFormatException bad(String reason) {
        return new TraceFormatException(file, lineNo, reason);
    }

    /** Parses the current line, which is not blank or a comment. */
    private TraceRecord parseLine() {
        int s = lineStart;
        int e = lineEnd;
        // "<comm>-<pid> [<cpu>] <flags> <secs>.<usecs>: <event>: <payload>"; comm may contain '-' and spaces.
        int lb = indexOf(' ', '[', s, e);
        int rb = -1;
        while (lb >= 0) {
            rb = indexOf(']', lb, e);
            if (rb > lb + 2 && isDigits(lb + 2, rb)) {
                break;
            }
            lb = indexOf(' ', '[', lb + 2, e);
        }
        if (lb < 0) {
            throw bad("not an ftrace event line (no [cpu] column)");
        }
        int headEnd = stripTrailing(s, lb);
        int dash = lastIndexOf('-', s, headEnd);
        if (dash <= s || !isDigits(dash + 1, headEnd)) {
            throw bad("no task-pid before the [cpu] column");
        }
        int commEnd = stripTrailingAscii(s, dash);
        String comm = comms.get(b, stripLeadingAscii(s, commEnd), commEnd);
        int pid = parseInt(dash + 1, headEnd, "pid");
        int cpu = parseInt(lb + 2, rb, "cpu");
        int p = skipSpaces(rb + 1, e);
        int flagsEnd = indexOf(' ', p, e);
        if (flagsEnd < 0) {
            throw bad("line ends after the [cpu] column");
        }
        String flags;
        if (isTimestampColon(p, flagsEnd)) {
            flags = ""; // trace-cmd report without -l: no irq-flags column
        } else {
            flags = flagColumns.get(b, p, flagsEnd);
            p = skipSpaces(flagsEnd, e);
        }
        int colon = indexOf(':', ' ', p, e);
        if (colon < 0) {
            throw bad("no timestamp");
        }
        long ts = parseTimestamp(p, colon);
        int nameStart = colon + 2;
        // the first space ends the name when ':' precedes it (else the name has a space, or there is no ": ")
        int space = indexOf(' ', nameStart, e);
        int nameEnd = space > nameStart && b[space - 1] == ':' ? space - 1 : indexOf(':', ' ', nameStart, e);
        String name;
        int from;
        if (nameEnd < 0 || nameEnd + 1 != space) {
            // function tracer ("xen_swiotlb_map_page <-dma_map_page_attrs") or an event without payload
            name = e > nameStart && b[e - 1] == ':' ? names.get(b, nameStart, e - 1) : "function";
            from = nameStart;
        } else {
            name = names.get(b, nameStart, nameEnd);
            from = nameEnd + 2;
            if (!name.equals(MARKER)) {
                // trace-cmd pads the event name; ftrace's dma and swiotlb payloads never start with a space
                from = skipSpaces(from, e);
            }
            if (name.equals("print") && startsWith(from, e, MARKER_PREFIX)) {
                // trace-cmd shows a marker as ftrace's print event, whose format prints the writer's ip first
                name = MARKER;
                from += MARKER_PREFIX.length;
            }
        }
        return new TraceRecord(
                lineNo, comm, pid, cpu, flags, ts, name, parsePayload(name, from, e), new TraceLine(b, s, e - s));
    }

    /** Whether {@code b[from, to)} is {@code seconds.fraction:}, the timestamp of a line with no flags column. */
    private boolean isTimestampColon(int from, int to) {
        if (to - from < 4 || b[to - 1] != ':') {
            return false;
        }
        int dot = indexOf('.', from, to);
        return dot > from && dot < to - 2 && isDigits(from, dot) && isDigits(dot + 1, to - 1);
    }

    private long parseTimestamp(int from, int to) {
        // fast path: 1 to 18 ASCII digits, '.', 1 to 9 ASCII digits, and no overflow
        byte[] a = b;
        long secs = 0;
        int i = from;
        for (; i < to && i - from < 18 && a[i] >= '0' && a[i] <= '9'; i++) {
            secs = secs * 10 + (a[i] - '0');
        }
        if (i > from && i < to - 1 && a[i] == '.') {
            int fracFrom = i + 1;
            long ns = 0;
            int j = fracFrom;
            for (; j < to && j - fracFrom < 9 && a[j] >= '0' && a[j] <= '9'; j++) {
                ns = ns * 10 + (a[j] - '0');
            }
            if (j == to) {
                for (int k = j - fracFrom; k < 9; k++) {
                    ns *= 10;
                }
                if (secs <= (Long.MAX_VALUE - ns) / 1_000_000_000L) {
                    return secs * 1_000_000_000L + ns;
                }
            }
        }
        return parseTimestampText(from, to);
    }

    /** A timestamp the fast path did not take, read (or refused) as text. */
    private long parseTimestampText(int from, int to) {
        int dot = indexOf('.', from, to);
        if (dot <= from || !isDigits(from, dot) || !isDigits(dot + 1, to) || chars(dot + 1, to) > 9) {
            throw bad("bad timestamp '" + text(from, to) + "'");
        }
        String t = text(from, to);
        try {
            int d = t.indexOf('.');
            long secs = Long.parseLong(t.substring(0, d));
            String frac = t.substring(d + 1);
            long ns = Long.parseLong(frac);
            for (int i = frac.length(); i < 9; i++) {
                ns *= 10;
            }
            return Math.addExact(Math.multiplyExact(secs, 1_000_000_000L), ns);
        } catch (NumberFormatException | ArithmeticException x) {
            throw bad("timestamp '" + t + "' is out of range");
        }
    }

    /** A decimal column of the prefix that must fit an int (its bytes are digits). */
    private int parseInt(int from, int to, String what) {
        if (to - from <= 9 && ascii(from, to)) {
            int v = 0;
            for (int i = from; i < to; i++) {
                v = v * 10 + (b[i] - '0');
            }
            return v;
        }
        String digits = text(from, to);
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException x) {
            throw bad(what + " " + digits + " is out of range");
        }
    }

    // -------------------------------------------------------------------------------------------------------------
    // Payloads

    /** The typed payload of event {@code name}, {@code b[from, to)}; each kind's reader is its own (small) method. */
    private TraceEvent parsePayload(String name, int from, int to) {
        return switch (name) {
            case "dma_map_page", "dma_map_resource", "dma_map_phys" -> map(name, from, to);
            case "dma_unmap_page", "dma_unmap_resource", "dma_unmap_phys" -> unmap(name, from, to);
            case "dma_map_sg" -> mapSg(from, to);
            case "dma_map_sg_err" -> mapSgErr(from, to);
            case "dma_unmap_sg" -> unmapSg(from, to);
            case "dma_sync_single_for_cpu", "dma_sync_single_for_device" -> sync(name, from, to);
            case "dma_sync_sg_for_cpu", "dma_sync_sg_for_device" -> syncSg(name, from, to);
            case "dma_alloc", "dma_alloc_pages", "dma_alloc_sgt_err" -> alloc(name, from, to);
            case "dma_free", "dma_free_pages" -> free(name, from, to);
            case "dma_alloc_sgt" -> allocSgt(from, to);
            case "dma_free_sgt" -> freeSgt(from, to);
            case "swiotlb_bounced" -> bounced(from, to);
            case MARKER -> new TraceEvent.Marker(text(from, to));
            default -> new TraceEvent.Other(name, text(from, to));
        };
    }

    // Each reader reads its fields in the order the string-based parser did, so that a line with several faults
    // reports the same one.

    private TraceEvent.Map map(String name, int from, int to) {
        fields(from, to);
        Direction dir = dir();
        long dma = hex(DMA_ADDR);
        long size = dec(SIZE);
        long phys = hex(PHYS_ADDR);
        long attrs = attrs();
        return new TraceEvent.Map(device, dir, dma, size, phys, attrs, resource(name, attrs));
    }

    private TraceEvent.Unmap unmap(String name, int from, int to) {
        fields(from, to);
        Direction dir = dir();
        long dma = hex(DMA_ADDR);
        long size = dec(SIZE);
        long attrs = attrs();
        return new TraceEvent.Unmap(device, dir, dma, size, attrs, resource(name, attrs));
    }

    /**
     * Whether a map or unmap line is of MMIO space: {@code dma_map_resource} before 6.17, {@code dma_map_phys} with
     * {@code DMA_ATTR_MMIO} since (which {@code dma_map_resource} became).
     */
    private static boolean resource(String name, long attrs) {
        return name.endsWith("_resource") || name.endsWith("_phys") && DmaAttrs.has(attrs, DmaAttrs.MMIO);
    }

    private TraceEvent.AllocSgt allocSgt(int from, int to) {
        fields(from, to);
        Direction dir = dir();
        long dma = hex(DMA_ADDR);
        long size = dec(SIZE);
        long[] phys = array(PHYS_ADDRS);
        int gfp = gfp();
        return new TraceEvent.AllocSgt(device, dir, dma, size, phys, gfp, attrs());
    }

    private TraceEvent.FreeSgt freeSgt(int from, int to) {
        fields(from, to);
        Direction dir = dir();
        long dma = hex(DMA_ADDR);
        long size = dec(SIZE);
        return new TraceEvent.FreeSgt(device, dir, dma, size, array(PHYS_ADDRS));
    }

    private TraceEvent.MapSg mapSg(int from, int to) {
        fields(from, to);
        long[] dma = array(DMA_ADDRS);
        long[] sizes = array(SIZES);
        long[] phys = array(PHYS_ADDRS);
        int nents = has(NENTS) ? fullCount(NENTS) : phys.length;
        int ents = has(ENTS) ? fullCount(ENTS) : dma.length;
        if (sizes.length != dma.length) {
            throw bad("dma_map_sg: " + dma.length + " dma_addrs but " + sizes.length + " sizes");
        }
        Direction dir = dir();
        return new TraceEvent.MapSg(device, dir, nents, ents, truncated, dma, sizes, phys, attrs());
    }

    private TraceEvent.MapSgErr mapSgErr(int from, int to) {
        fields(from, to);
        Direction dir = dir();
        long[] phys = array(DMA_ADDRS);
        int err = (int) decSigned(ERR);
        return new TraceEvent.MapSgErr(device, dir, phys, err, attrs());
    }

    private TraceEvent.UnmapSg unmapSg(int from, int to) {
        fields(from, to);
        Direction dir = dir();
        long[] phys = array(PHYS_ADDRS);
        return new TraceEvent.UnmapSg(device, dir, phys, attrs());
    }

    private TraceEvent.Sync sync(String name, int from, int to) {
        fields(from, to);
        Direction dir = dir();
        long dma = hex(DMA_ADDR);
        return new TraceEvent.Sync(device, name.endsWith("cpu"), dir, dma, dec(SIZE));
    }

    private TraceEvent.SyncSg syncSg(String name, int from, int to) {
        fields(from, to);
        Direction dir = dir();
        long[] dma = array(DMA_ADDRS);
        return new TraceEvent.SyncSg(device, name.endsWith("cpu"), dir, dma, array(SIZES));
    }

    /** What {@code dma_alloc*} and {@code dma_free*} both print ({@code dir} null and -1 where a field is absent). */
    private record Coherent(Direction dir, long virt, long phys, long dma, long size) {}

    private Coherent coherent(int from, int to) {
        fields(from, to);
        Direction dir = has(DIR) ? dir() : null;
        long virt = has(VIRT_ADDR) ? hex(VIRT_ADDR) : -1;
        long phys = has(PHYS_ADDR) ? hex(PHYS_ADDR) : -1;
        long dma = hex(DMA_ADDR);
        return new Coherent(dir, virt, phys, dma, dec(SIZE));
    }

    private TraceEvent.Alloc alloc(String name, int from, int to) {
        Coherent c = coherent(from, to);
        int gfp = gfp();
        return new TraceEvent.Alloc(
                device, !name.equals("dma_alloc"), c.dir(), c.dma(), c.size(), c.virt(), c.phys(), gfp, attrs());
    }

    private TraceEvent.Free free(String name, int from, int to) {
        Coherent c = coherent(from, to);
        return new TraceEvent.Free(
                device, name.equals("dma_free_pages"), c.dir(), c.dma(), c.size(), c.virt(), c.phys(), attrs());
    }

    private TraceEvent.SwiotlbBounced bounced(int from, int to) {
        if (!startsWith(from, to, DEV_NAME)) {
            throw bad("swiotlb_bounced: expected 'dev_name: '");
        }
        fields(from + DEV_NAME.length, to);
        boolean force;
        if (equalsBytes(lastFrom, lastTo, FORCE)) {
            force = true;
        } else if (equalsBytes(lastFrom, lastTo, NORMAL)) {
            force = false;
        } else {
            throw bad("swiotlb_bounced: expected FORCE or NORMAL at the end, got " + text(lastFrom, lastTo));
        }
        long mask = hex(DMA_MASK);
        long devAddr = hex(DEV_ADDR);
        return new TraceEvent.SwiotlbBounced(device, mask, devAddr, dec(SIZE), force);
    }

    /**
     * Reads the payload {@code b[from, to)} as {@code String.split(" ")} splits it: the first token is the device
     * name, and of the others each {@code key=value} is noted by key (the first of each key counts); the last
     * non-empty token is kept (a trailing {@code FORCE}/{@code NORMAL}).
     */
    private void fields(int from, int to) {
        byte[] a = b;
        int deviceEnd = indexOf(' ', from, to);
        if (deviceEnd < 0) {
            deviceEnd = to;
        }
        if (deviceEnd == from || indexOf('=', from, deviceEnd) >= 0) {
            throw bad("missing device name");
        }
        device = devices.get(a, from, deviceEnd);
        Arrays.fill(valFrom, -1);
        truncated = equalsBytes(from, deviceEnd, TRUNCATED);
        lastFrom = from;
        lastTo = deviceEnd;
        for (int start = deviceEnd + 1; start <= to; ) {
            int i = start;
            while (i < to && a[i] != ' ' && a[i] != '=') {
                i++;
            }
            int end = i;
            if (i < to && a[i] == '=') {
                end = indexOf(' ', i + 1, to);
                if (end < 0) {
                    end = to;
                }
                int k = key(start, i);
                if (k >= 0 && valFrom[k] < 0) {
                    valFrom[k] = i + 1;
                    valTo[k] = end;
                }
            }
            if (end > start) {
                lastFrom = start;
                lastTo = end;
                truncated |= equalsBytes(start, end, TRUNCATED);
            }
            start = end + 1;
        }
    }

    /** The index of the key {@code b[from, to)} in {@link #KEYS}, or -1. */
    private int key(int from, int to) {
        int n = to - from;
        if (n >= KEYS_BY_LENGTH.length) {
            return -1;
        }
        int[] candidates = KEYS_BY_LENGTH[n];
        if (from + Long.BYTES <= b.length) {
            // the first eight bytes at once (bytes past the key masked off), the rest of a longer key byte by byte
            long w = (long) LONGS.get(b, from);
            for (int k : candidates) {
                if ((w & KEY_MASKS[k]) == KEY_WORDS[k]
                        && (n <= Long.BYTES || startsWith(from + Long.BYTES, to, KEY_TAILS[k]))) {
                    return k;
                }
            }
            return -1;
        }
        for (int k : candidates) {
            if (startsWith(from, to, KEY_BYTES[k])) {
                return k;
            }
        }
        return -1;
    }

    private boolean has(int key) {
        return valFrom[key] >= 0;
    }

    private void require(int key) {
        if (valFrom[key] < 0) {
            throw bad("missing field " + KEYS[key] + "=");
        }
    }

    private String value(int key) {
        return text(valFrom[key], valTo[key]);
    }

    private long hex(int key) {
        require(key);
        if (hexFast(valFrom[key], valTo[key])) {
            return number;
        }
        String v = value(key);
        try {
            return Long.parseUnsignedLong(v.startsWith("0x") ? v.substring(2) : v, 16);
        } catch (NumberFormatException x) {
            throw bad(KEYS[key] + "=" + v + " is not a hex address");
        }
    }

    /** A decimal size ({@code size=}): unsigned. */
    private long dec(int key) {
        return decimal(key, false);
    }

    /** A decimal number that may be negative ({@code err=}). */
    private long decSigned(int key) {
        return decimal(key, true);
    }

    private long decimal(int key, boolean signed) {
        require(key);
        if (decimalFast(valFrom[key], valTo[key], 18)) {
            return number;
        }
        String v = value(key);
        try {
            return signed ? Long.parseLong(v) : Long.parseUnsignedLong(v);
        } catch (NumberFormatException x) {
            throw bad(KEYS[key] + "=" + v + (signed ? " is not a number" : " is not a decimal size"));
        }
    }

    /** {@code nents=}/{@code ents=}: the full count, after the slash of the 6.12.y {@code printed/full} form. */
    private int fullCount(int key) {
        int from = valFrom[key];
        int to = valTo[key];
        int slash = indexOf('/', from, to);
        int n = slash < 0 ? from : slash + 1;
        if (decimalFast(n, to, 9)) {
            return (int) number;
        }
        String v = value(key);
        try {
            return Integer.parseInt(text(n, to));
        } catch (NumberFormatException x) {
            throw bad(KEYS[key] + "=" + v + " is not a count");
        }
    }

    private Direction dir() {
        require(DIR);
        try {
            return directions.get(b, valFrom[DIR], valTo[DIR]);
        } catch (IllegalArgumentException x) {
            throw bad("dir=" + value(DIR) + " is not a DMA direction");
        }
    }

    private long attrs() {
        if (!has(ATTRS)) {
            return 0;
        }
        try {
            return attrWords.get(b, valFrom[ATTRS], valTo[ATTRS]);
        } catch (IllegalArgumentException x) {
            throw bad("attrs=" + value(ATTRS) + ": " + x.getMessage());
        }
    }

    private int gfp() {
        require(FLAGS);
        try {
            return gfpWords.get(b, valFrom[FLAGS], valTo[FLAGS]);
        } catch (IllegalArgumentException x) {
            throw bad("flags=" + value(FLAGS) + ": " + x.getMessage());
        }
    }

    /** An array {@code {0x1,0x2}}: its elements split at commas as {@code String.split(",")} splits them. */
    private long[] array(int key) {
        require(key);
        int from = valFrom[key];
        int to = valTo[key];
        if (to - from < 2 || b[from] != '{' || b[to - 1] != '}') {
            throw bad(KEYS[key] + " is not an array {...}");
        }
        int bodyFrom = from + 1;
        int bodyTo = to - 1;
        while (bodyTo > bodyFrom && b[bodyTo - 1] == ',') {
            bodyTo--; // split drops trailing empty elements
        }
        if (bodyTo == bodyFrom) {
            return new long[0];
        }
        byte[] a = b;
        int n = 0;
        for (int start = bodyFrom; start <= bodyTo; n++) {
            if (n == scratch.length) {
                scratch = Arrays.copyOf(scratch, 2 * n);
            }
            // fast path: an optional "0x", then 1 to 16 ASCII hex digits up to the comma or the end
            int p = start + 1 < bodyTo && a[start] == '0' && a[start + 1] == 'x' ? start + 2 : start;
            int q = p;
            long v = 0;
            for (int d; q < bodyTo && q - p < 16 && (d = HEX[a[q] & 0xff]) >= 0; q++) {
                v = v << 4 | d;
            }
            if (q > p && (q == bodyTo || a[q] == ',')) {
                scratch[n] = v;
                start = q + 1;
                continue;
            }
            int end = indexOf(',', start, bodyTo);
            if (end < 0) {
                end = bodyTo;
            }
            String x = text(start, end);
            try {
                scratch[n] = Long.parseUnsignedLong(x.startsWith("0x") ? x.substring(2) : x, 16);
            } catch (NumberFormatException nfe) {
                throw bad(KEYS[key] + "[" + n + "]=" + x + " is not hex");
            }
            start = end + 1;
        }
        return Arrays.copyOf(scratch, n);
    }

    /**
     * Reads {@code b[from, to)} as 1 to {@code maxDigits} (at most 18) ASCII decimal digits into {@link #number};
     * false for anything else.
     */
    private boolean decimalFast(int from, int to, int maxDigits) {
        if (to <= from || to - from > maxDigits) {
            return false;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                return false;
            }
            v = v * 10 + d;
        }
        number = v;
        return true;
    }

    /**
     * Reads {@code b[from, to)} as 1 to 16 ASCII hex digits, after an optional {@code 0x}, into {@link #number}; false
     * for anything else (which the caller reads the slow way).
     */
    private boolean hexFast(int from, int to) {
        int p = from;
        if (to - p >= 2 && b[p] == '0' && b[p + 1] == 'x') {
            p += 2;
        }
        if (p == to || to - p > 16) {
            return false;
        }
        long v = 0;
        for (int i = p; i < to; i++) {
            int d = HEX[b[i] & 0xff];
            if (d < 0) {
                return false;
            }
            v = v << 4 | d;
        }
        number = v;
        return true;
    }

    // -------------------------------------------------------------------------------------------------------------
    // Bytes

    private String text(int from, int to) {
        return new String(b, from, to - from, StandardCharsets.UTF_8);
    }

    private boolean ascii(int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] < 0) {
                return false;
            }
        }
        return true;
    }

    /** The number of UTF-16 chars {@code b[from, to)} decodes to. */
    private int chars(int from, int to) {
        return ascii(from, to) ? to - from : text(from, to).length();
    }

    /** Whether {@code b[from, to)} is one or more digits by {@link Character#isDigit} (so: not only ASCII). */
    private boolean isDigits(int from, int to) {
        if (to <= from) {
            return false;
        }
        for (int i = from; i < to; i++) {
            byte c = b[i];
            if (c < 0) {
                return text(from, to).chars().allMatch(Character::isDigit);
            }
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** The first position in {@code b[from, to)} that is not a space, or {@code to}; eight bytes at a time. */
    private int skipSpaces(int from, int to) {
        byte[] a = b;
        int p = from;
        while (p + Long.BYTES <= to) {
            long notSpace = (long) LONGS.get(a, p) ^ 0x2020202020202020L;
            if (notSpace != 0) {
                return p + (Long.numberOfTrailingZeros(notSpace) >>> 3);
            }
            p += Long.BYTES;
        }
        while (p < to && a[p] == ' ') {
            p++;
        }
        return p;
    }

    /** The end of {@code b[from, to)} without its trailing whitespace, as {@link String#stripTrailing} finds it. */
    private int stripTrailing(int from, int to) {
        int t = to;
        while (t > from) {
            int c = b[t - 1];
            if (c >= 0) {
                if (!ASCII_WHITESPACE[c]) {
                    break;
                }
                t--;
            } else if (t - 3 >= from && Character.isWhitespace(threeByteChar(t - 3))) {
                t -= 3; // every non-ASCII whitespace character (U+1680, U+2000..U+200A, U+3000, ...) is 3 bytes long
            } else {
                break;
            }
        }
        return t;
    }

    /** The character encoded by the 3-byte sequence at {@code b[i]}, or -1 if it is not one. */
    private int threeByteChar(int i) {
        int b0 = b[i] & 0xff;
        int b1 = b[i + 1] & 0xff;
        int b2 = b[i + 2] & 0xff;
        if ((b0 & 0xf0) != 0xe0 || (b1 & 0xc0) != 0x80 || (b2 & 0xc0) != 0x80) {
            return -1;
        }
        return (b0 & 0x0f) << 12 | (b1 & 0x3f) << 6 | (b2 & 0x3f);
    }

    private int stripLeadingAscii(int from, int to) {
        int p = skipSpaces(from, to);
        while (p < to && b[p] >= 0 && ASCII_WHITESPACE[b[p]]) {
            p++;
        }
        return p;
    }

    private int stripTrailingAscii(int from, int to) {
        int t = to;
        while (t > from && b[t - 1] >= 0 && ASCII_WHITESPACE[b[t - 1]]) {
            t--;
        }
        return t;
    }

    /** The first position of {@code c} in {@code b[from, to)}, or -1; eight bytes at a time, as {@link #lineEnd}. */
    private int indexOf(char c, int from, int to) {
        byte[] a = b;
        long pattern = c * 0x0101010101010101L;
        int i = from;
        for (; i + Long.BYTES <= to; i += Long.BYTES) {
            long x = (long) LONGS.get(a, i) ^ pattern;
            long found = (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (a[i] == c) {
                return i;
            }
        }
        return -1;
    }

    /** The first position of the two-character sequence {@code c1 c2} in {@code b[from, to)}, or -1. */
    private int indexOf(char c1, char c2, int from, int to) {
        int i = indexOf(c2, from + 1, to);
        while (i >= 0 && b[i - 1] != c1) {
            i = indexOf(c2, i + 1, to);
        }
        return i < 0 ? -1 : i - 1;
    }

    private int lastIndexOf(char c, int from, int to) {
        for (int i = to - 1; i >= from; i--) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }

    private boolean startsWith(int from, int to, byte[] prefix) {
        if (to - from < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[from + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private boolean equalsBytes(int from, int to, byte[] word) {
        return to - from == word.length && startsWith(from, to, word);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The UTF-8 bytes of a character stream, for the {@link Reader} constructor. A high surrogate at the end of a
     * chunk waits for the chunk after it, so a pair split between reads encodes as one character.
     */
    private static final class Utf8Bytes extends InputStream {
        private final Reader reader;
        private final char[] chars = new char[1 << 13];
        private int held;
        private byte[] out = new byte[0];
        private int outPos;
        private boolean done;

        Utf8Bytes(Reader reader) {
            this.reader = reader;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] dst, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (outPos == out.length) {
                if (done) {
                    return -1;
                }
                int n = reader.read(chars, held, chars.length - held);
                int total = held + Math.max(n, 0);
                done = n < 0;
                int keep = !done && Character.isHighSurrogate(chars[total - 1]) ? 1 : 0;
                out = new String(chars, 0, total - keep).getBytes(StandardCharsets.UTF_8);
                outPos = 0;
                if (keep == 1) {
                    chars[0] = chars[total - 1];
                }
                held = keep;
            }
            int n = Math.min(len, out.length - outPos);
            System.arraycopy(out, outPos, dst, off, n);
            outPos += n;
            return n;
        }

        @Override
        public void close() throws IOException {
            reader.close();
        }
    }
}
