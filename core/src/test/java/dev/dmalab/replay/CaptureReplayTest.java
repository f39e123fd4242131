package dev.dmalab.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Platforms;
import dev.dmalab.testing.Captures;
import dev.dmalab.trace.FtraceParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every capture of {@code testdata/captures/CASES} replayed as the CLI replays it (the profile refined by the run's
 * cmdline, iomem and dmesg, nothing else), open-loop and one-step: each must reach the fidelity CASES writes down.
 */
class CaptureReplayTest {
    record Case(String capture, String platform, double openLoop, double oneStep) {
        @Override
        public String toString() {
            return capture + " on " + platform;
        }
    }

    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Captures.dir("").resolve("CASES"))) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.trim().split("\\s+");
                out.add(new Case(f[0], f[1], Double.parseDouble(f[2]), Double.parseDouble(f[3])));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static List<Case> replayable() {
        return cases();
    }

    static ReplaySetup.FileText file(String capture, String name) {
        return new ReplaySetup.FileText(name, Captures.read(capture, name));
    }

    static Supplier<FtraceParser> opener(Case c) {
        Path trace = Captures.dir(c.capture()).resolve("trace.txt.xz");
        return () -> {
            try {
                return FtraceParser.open(trace, true);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    static ReplaySetup setup(Case c, String whatIf) {
        return ReplaySetup.create(
                Platforms.builtIn(c.platform()),
                KernelVersion.V6_12,
                file(c.capture(), "cmdline.txt"),
                file(c.capture(), "iomem.txt"),
                file(c.capture(), "dmesg.txt"),
                null,
                whatIf,
                opener(c));
    }

    static TraceReplay replay(Case c, String whatIf, boolean oneStep) {
        ReplaySetup setup = setup(c, whatIf);
        try (FtraceParser p = opener(c).get()) {
            return new TraceReplay(c.capture(), p, setup.boot(), oneStep ? setup.boot() : null).run();
        }
    }

    @Test
    void casesListsEveryVendoredCaptureOnABuiltInPlatform() {
        assertThat(cases()).hasSize(6);
        assertThat(cases()).allSatisfy(c -> assertThat(Platforms.BUILT_IN).contains(c.platform()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("replayable")
    void captureReachesItsFidelity(Case c) {
        TraceReplay r = replay(c, "", true);
        if (c.openLoop() == 1.0) {
            assertThat(r.mismatches()).as(c.toString()).isEmpty();
        }
        assertThat(r.streamingMappings()).isPositive();
        assertThat(r.fidelity()).isGreaterThanOrEqualTo(c.openLoop());
        assertThat(r.fidelityOneStep()).isGreaterThanOrEqualTo(c.oneStep());
        assertThat(r.malformedLines()).isZero();
        assertThat(r.orphanBounces()).isZero();
        assertThat(r.model().unmatchedUnmaps()).isZero();
        assertThat(r.model().failuresKernelMade()).isZero();
        assertThat(r.model().inferredDevices())
                .as("every traced device is in the profile")
                .isEmpty();
    }
}
