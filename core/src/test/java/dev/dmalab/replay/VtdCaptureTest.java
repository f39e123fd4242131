package dev.dmalab.replay;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The VT-d strict capture ({@code x86-q35/iommu-strict}) replayed on {@code x86-q35-vtd}: the figures of the
 * reference predictor of validated-iova.md — 11,944 of 11,978 streaming mappings open-loop, all but one one-step —
 * and every coherent allocation's IOVA.
 */
class VtdCaptureTest {
    private static final CaptureReplayTest.Case CASE =
            new CaptureReplayTest.Case("x86-q35/iommu-strict", "x86-q35-vtd", 0.997, 0.9999);

    @Test
    void predictsTheKernelsIovasAsTheReferencePredictorDid() {
        TraceReplay r = CaptureReplayTest.replay(CASE, "", true);
        assertThat(r.streamingMappings()).isEqualTo(11_978);
        assertThat(r.exact()).isGreaterThanOrEqualTo(11_944);
        assertThat(r.exactOneStep()).isGreaterThanOrEqualTo(11_977);
        // every coherent buffer's IOVA, from the allocator the streaming mappings share
        assertThat(r.model().coherentCompared()).isEqualTo(20);
        assertThat(r.model().coherentExact()).isEqualTo(20);
        assertThat(r.oneStepModel().coherentExact()).isEqualTo(20);
        // the residue is the e1000e's: interrupts that ran between an unmap and its trace event
        assertThat(r.mismatches()).allSatisfy(mm -> assertThat(mm.device()).isEqualTo("0000:00:04.0"));
        assertThat(r.model().failuresKernelMade()).isZero();
        assertThat(r.model().unmatchedUnmaps()).isZero();
        assertThat(r.model().machine().iommu().unmapMismatches()).isZero();
        assertThat(r.model().machine().iommu().hardware().faults()).isEmpty();
    }
}
