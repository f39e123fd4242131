package dev.dmalab.bench;

import dev.dmalab.check.CheckOptions;
import dev.dmalab.check.DmaChecker;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.replay.ReplaySetup;
import dev.dmalab.replay.TraceReplay;
import dev.dmalab.trace.FtraceParser;
import dev.dmalab.trace.TraceRecord;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The trace parser and the replay over one real capture held in memory (decompressed once, in the set-up), so that
 * no file I/O or decompression is timed (the parser reads the held bytes as it would read a file's): {@code parse} reads
 * every line with {@link FtraceParser}; {@code boot}
 * boots the replay's machine alone (what {@code replay} pays before its first event); {@code replay} boots and
 * replays the whole capture open-loop, as {@code dmalab replay} does, with and without the DMA checker attached
 * ({@code dmalab replay --check}). One operation is the whole capture: divide by the line count printed in the
 * set-up (and in docs/PERFORMANCE.md) for a per-line cost.
 *
 * <p>The captures are the repository's {@code testdata/captures} (run the jar from the repository root, or set
 * {@code -Ddmalab.captures=DIR} through {@code -jvmArgsAppend}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TraceBench {
    /** A capture's trace text and the replay set-up of its platform, built once per trial. */
    @State(Scope.Thread)
    public static class Capture {
        /** A capture directory below {@code testdata/captures} and the built-in platform it was taken on. */
        @Param({"x86-q35/swiotlb-force:x86-q35", "x86-q35/iommu-strict:x86-q35-vtd"})
        public String capture;

        byte[] text;
        String name;
        long lines;
        ReplaySetup replaySetup;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            String[] f = capture.split(":");
            Path dir = Path.of(System.getProperty("dmalab.captures", "testdata/captures"))
                    .resolve(f[0]);
            name = dir.resolve("trace.txt.xz").toString();
            try (InputStream in = FtraceParser.openBytes(dir.resolve("trace.txt.xz"))) {
                text = in.readAllBytes();
            }
            lines = new String(text, StandardCharsets.UTF_8).lines().count();
            replaySetup = ReplaySetup.create(
                    Platforms.builtIn(f[1]),
                    KernelVersion.V6_12,
                    read(dir, "cmdline.txt"),
                    read(dir, "iomem.txt"),
                    read(dir, "dmesg.txt"),
                    null,
                    "",
                    this::parser);
            System.out.println("\n" + f[0] + ": " + lines + " lines, " + text.length + " bytes");
        }

        FtraceParser parser() {
            return new FtraceParser(name, new ByteArrayInputStream(text), false);
        }

        private static ReplaySetup.FileText read(Path dir, String file) {
            try {
                return new ReplaySetup.FileText(file, Files.readString(dir.resolve(file), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The capture, plus whether the DMA checker listens during the replay. */
    @State(Scope.Thread)
    public static class Checked {
        @Param({"false", "true"})
        public boolean checker;
    }

    @Benchmark
    public void parse(Capture c, Blackhole bh) {
        try (FtraceParser p = c.parser()) {
            for (TraceRecord r; (r = p.next()) != null; ) {
                bh.consume(r);
            }
        }
    }

    @Benchmark
    public Machine boot(Capture c) {
        return c.replaySetup.boot();
    }

    @Benchmark
    public long replay(Capture c, Checked k) {
        Machine m = c.replaySetup.boot();
        DmaChecker checker = k.checker ? m.attachChecker(CheckOptions.DEFAULT.withCheckMapErrors(false)) : null;
        try (FtraceParser p = c.parser()) {
            TraceReplay r = new TraceReplay(c.name, p, m, null).run();
            if (r.model().failuresKernelMade() != 0
                    || (checker != null && !checker.findings().isEmpty())) {
                throw new IllegalStateException("the replay of " + c.capture + " failed or has findings");
            }
            return r.exact();
        }
    }
}
