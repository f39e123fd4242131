package dev.dmalab.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.check.CheckOptions;
import dev.dmalab.check.DmaChecker;
import dev.dmalab.check.DmaFinding;
import dev.dmalab.platform.Machine;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The checker over the model's open-loop replay of every capture, reporting every dma-debug error: the kernels
 * that produced these traces ran correct drivers, so a finding here is either justified by what the trace shows
 * or a checker bug. Map-error checks are off (a trace does not show {@code dma_mapping_error()} calls).
 */
class CaptureCheckTest {
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.dmalab.replay.CaptureReplayTest#replayable")
    void replayYieldsNoUnjustifiedFinding(CaptureReplayTest.Case c) {
        ReplaySetup setup = CaptureReplayTest.setup(c, "");
        Machine m = setup.boot();
        DmaChecker checker =
                m.attachChecker(CheckOptions.DEFAULT.withAllErrors(true).withCheckMapErrors(false));
        TraceReplay r = new TraceReplay(c.capture(), CaptureReplayTest.opener(c).get(), m, null).run();
        Map<String, Integer> byCategory = new TreeMap<>();
        for (DmaFinding f : checker.findings()) {
            byCategory.merge(f.category().id(), 1, Integer::sum);
        }
        System.out.println(c + ": " + r.events() + " events, " + checker.entriesMade() + " entries, findings "
                + byCategory + ", first " + checker.findings().stream().limit(3).toList());
        assertThat(checker.entriesMade()).as("the checker tracked the replay").isGreaterThan(r.streamingMappings());
        assertThat(byCategory).isEmpty();
    }
}
