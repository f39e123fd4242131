package dev.dmalab.trace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.util.SeededRandom;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The byte-level {@link FtraceParser} against the string-based parser it replaced ({@link ReferenceFtraceParser}):
 * every record (prefix, typed payload, line text), the counts and the messages must be the same, on every capture,
 * with read buffers small enough to put lines and characters across buffer boundaries, and on randomly damaged text
 * (bytes of the format's delimiters, non-ASCII digits and spaces, malformed UTF-8, stray {@code \r}, numbers out of
 * range). Seeded: the seed is printed, and {@code -Ddmalab.seed=N} replays one.
 */
class FtraceParserDifferentialTest {
    /** What a parse gave: every record described, then the counts and first errors, or what it threw. */
    private static List<String> outcome(Supplier<Source> open) {
        List<String> out = new ArrayList<>();
        Source p = open.get();
        try {
            for (TraceRecord r = p.next().get(); r != null; r = p.next().get()) {
                out.add(describe(r));
            }
            out.add("other " + p.otherEvents().getAsLong() + ", malformed "
                    + p.malformedLines().getAsLong());
            for (TraceFormatException e : p.firstErrors().get()) {
                out.add("error " + e.getMessage());
            }
        } catch (RuntimeException e) {
            out.add("threw " + e.getClass().getName() + ": " + e.getMessage());
        }
        return out;
    }

    /** The two parsers' common surface. */
    private record Source(
            Supplier<TraceRecord> next,
            LongSupplier otherEvents,
            LongSupplier malformedLines,
            Supplier<List<TraceFormatException>> firstErrors) {}

    private static Source bytes(byte[] text, boolean strict, int bufferBytes) {
        FtraceParser p = new FtraceParser("t.trace", new ByteArrayInputStream(text), strict, bufferBytes);
        return new Source(p::next, p::otherEvents, p::malformedLines, p::firstErrors);
    }

    private static Source reference(byte[] text, boolean strict) {
        ReferenceFtraceParser p = new ReferenceFtraceParser(
                "t.trace", new InputStreamReader(new ByteArrayInputStream(text), StandardCharsets.UTF_8), strict);
        return new Source(p::next, p::otherEvents, p::malformedLines, p::firstErrors);
    }

    /** Every component of a record and of its event, arrays by content. */
    static String describe(TraceRecord r) {
        StringBuilder sb = new StringBuilder()
                .append(r.line())
                .append('|')
                .append(r.comm())
                .append('|')
                .append(r.pid())
                .append('|')
                .append(r.cpu())
                .append('|')
                .append(r.flags())
                .append('|')
                .append(r.timestampNs())
                .append('|')
                .append(r.eventName())
                .append('|')
                .append(r.event().getClass().getSimpleName());
        for (RecordComponent c : r.event().getClass().getRecordComponents()) {
            try {
                Object v = c.getAccessor().invoke(r.event());
                sb.append('|').append(c.getName()).append('=');
                sb.append(v instanceof long[] a ? Arrays.toString(a) : String.valueOf(v));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return sb.append('|').append(r.text()).toString();
    }

    private static void assertSame(String what, byte[] text, int bufferBytes) {
        for (boolean strict : new boolean[] {false, true}) {
            List<String> want = outcome(() -> reference(text, strict));
            List<String> got = outcome(() -> bytes(text, strict, bufferBytes));
            assertThat(got)
                    .as(what + (strict ? ", strict" : "") + ", " + bufferBytes + "-byte buffers")
                    .containsExactlyElementsOf(want);
        }
    }

    static List<String> captures() {
        return CaptureLines.ALL;
    }

    private static byte[] captureBytes(String capture) {
        try (InputStream in = FtraceParser.openBytes(CaptureLines.trace(capture))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest
    @MethodSource("captures")
    void everyCaptureParsesAsTheReferenceDoes(String capture) {
        byte[] text = captureBytes(capture);
        assertSame(capture, text, FtraceParser.BUFFER_BYTES);
        assertSame(capture, text, 4093);
        // a buffer shorter than every line: each line is carried into a new buffer at least once
        assertSame(capture, Arrays.copyOf(text, Math.min(text.length, 300_000)), 7);
    }

    /** Pieces the damage is made of: the format's delimiters and words, and what the fast paths must refuse. */
    private static final String[] PIECES = {
        " ",
        "  ",
        "[",
        "]",
        "-",
        ":",
        ": ",
        ".",
        "=",
        "{",
        "}",
        ",",
        "/",
        "0x",
        "x",
        "0",
        "9",
        "f",
        "+",
        "-1",
        "#",
        "\t",
        "\r",
        "\n",
        "\r\n",
        "\u000b",
        "\u001c",
        "é",
        "\u0663",
        "\uff19",
        "\u3000",
        "\u2000",
        "\u1680",
        "\u00a0",
        "\u0085",
        "日本",
        "\ud83d\ude00",
        "[TRUNCATED]",
        "FORCE",
        "NORMAL",
        "dir=TO_DEVICE",
        "dir=",
        "attrs=",
        "attrs=SKIP_CPU_SYNC|NO_WARN",
        "attrs=0x1|",
        "flags=GFP_KERNEL|__GFP_ZERO",
        "flags=0x",
        "nents=3/",
        "ents=-1",
        "99999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "ffffffffffffffff",
        "1ffffffffffffffff",
        "00000000000000000001",
        "2147483648",
        "9223372036854.775807",
        "dev_name: ",
        "tracing_mark_write: ",
        "print: ",
        "dma_map_sg: ",
        "swiotlb_bounced: ",
        "dma_alloc: ",
        "err=",
        "cpus=2",
        "CPU 1 is empty",
        "version = 6"
    };

    /** Malformed UTF-8: lone lead and continuation bytes, an overlong form, a surrogate encoded, a cut sequence. */
    private static final byte[][] BAD_UTF8 = {
        {(byte) 0xe3},
        {(byte) 0x80},
        {(byte) 0xff},
        {(byte) 0xc0, (byte) 0xaf},
        {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
        {(byte) 0xe2, (byte) 0x80},
        {(byte) 0xf0, (byte) 0x9f, (byte) 0x98}
    };

    @Test
    void damagedTextParsesAsTheReferenceDoes() throws IOException {
        long seed = Long.getLong("dmalab.seed", System.nanoTime());
        System.out.println("FtraceParserDifferentialTest seed " + seed + " (replay: -Ddmalab.seed=" + seed + ")");
        SeededRandom rnd = new SeededRandom(seed);
        List<String> lines = new ArrayList<>();
        for (String capture : List.of("x86-q35/swiotlb-force", "arm64-virt/xen-arm64-dom0")) {
            String all = new String(captureBytes(capture), StandardCharsets.UTF_8);
            lines.addAll(Arrays.asList(all.split("\n")).subList(0, 3000));
        }
        lines.addAll(List.of(
                "            dd-1     [000]     6.384046: dma_map_page:   0000:00:03.0 dir=TO_DEVICE dma_addr=1 size=1"
                        + " phys_addr=1 attrs=",
                "            dd-1     [000] d..1.     6.384046: print:              tracing_mark_write: x",
                "   tâsk ü-12 [001] d..1.     1.5: tracing_mark_write: héllo wörld 日本",
                "",
                "   "));
        for (int round = 0; round < 2000; round++) {
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            int n = 1 + rnd.nextInt(40);
            for (int i = 0; i < n; i++) {
                byte[] line = lines.get(rnd.nextInt(lines.size())).getBytes(StandardCharsets.UTF_8);
                if (rnd.nextInt(3) > 0) {
                    line = damage(line, rnd);
                }
                text.write(line);
                String end = rnd.nextInt(10) == 0 ? (rnd.nextBoolean() ? "\r\n" : "\r") : "\n";
                if (i < n - 1 || rnd.nextBoolean()) {
                    text.write(end.getBytes(StandardCharsets.US_ASCII));
                }
            }
            int bufferBytes = rnd.nextBoolean() ? 1 + rnd.nextInt(200) : FtraceParser.BUFFER_BYTES;
            assertSame("seed " + seed + " round " + round, text.toByteArray(), bufferBytes);
        }
    }

    private static byte[] damage(byte[] line, SeededRandom rnd) {
        byte[] out = line;
        for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
            int at = out.length == 0 ? 0 : rnd.nextInt(out.length + 1);
            byte[] piece;
            switch (rnd.nextInt(5)) {
                case 0 -> piece = BAD_UTF8[rnd.nextInt(BAD_UTF8.length)];
                case 1 -> {
                    int len = Math.min(out.length - at, rnd.nextInt(12));
                    byte[] cut = new byte[out.length - len];
                    System.arraycopy(out, 0, cut, 0, at);
                    System.arraycopy(out, at + len, cut, at, out.length - at - len);
                    out = cut;
                    continue;
                }
                default -> piece = PIECES[rnd.nextInt(PIECES.length)].getBytes(StandardCharsets.UTF_8);
            }
            boolean replace = rnd.nextBoolean() && at < out.length;
            int removed = replace ? 1 : 0;
            byte[] next = new byte[out.length - removed + piece.length];
            System.arraycopy(out, 0, next, 0, at);
            System.arraycopy(piece, 0, next, at, piece.length);
            System.arraycopy(out, at + removed, next, at + piece.length, out.length - at - removed);
            out = next;
        }
        return out;
    }
}
