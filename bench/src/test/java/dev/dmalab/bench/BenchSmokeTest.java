package dev.dmalab.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Every benchmark's set-up and one operation, run by {@code mvn verify} (which never runs JMH itself): the states
 * boot, the Xen set-ups find the path they claim (no bounce, the guest's frame for a foreign page), the checker stays
 * silent, the parser and the replay read the capture. Nothing here is timed.
 */
class BenchSmokeTest {
    @ParameterizedTest(name = "{0} foreign={1}")
    @CsvSource({"juno-r2-xen-dom0,false", "juno-r2-xen-dom0,true", "x86-xen-pv-dom0,false", "x86-xen-pv-dom0,true"})
    void xenPairsTakeTheirPathAndTheCheckerStaysSilent(String platform, boolean foreign) {
        MapUnmapBench.Xen s = new MapUnmapBench.Xen();
        s.platform = platform;
        s.foreign = foreign;
        s.setup();
        assertThat(new MapUnmapBench().xenPair(s)).isNotEqualTo(-1L);
        assertThat(s.machine.swiotlb().bouncedMaps()).isZero();
        if (platform.startsWith("juno")) {
            CheckerBench.Xen c = new CheckerBench.Xen();
            c.checker = true;
            c.foreign = foreign;
            c.setup();
            new CheckerBench().xenPair(c);
            c.check();
        }
    }

    @ParameterizedTest(name = "{0} checker={1}")
    @CsvSource({"x86-q35-vtd,false", "x86-q35-vtd-lazy,true"})
    void checkerIommuPairsStaySilent(String platform, boolean checker) {
        CheckerBench.Iommu s = new CheckerBench.Iommu();
        s.platform = platform;
        s.checker = checker;
        s.setup();
        for (int i = 0; i < 600; i++) { // past two lazy flushes
            new CheckerBench().iommuPair(s);
        }
        s.check();
    }

    @Test
    void theParserAndTheReplayReadTheCapture() throws Exception {
        System.setProperty("dmalab.captures", "../testdata/captures");
        TraceBench.Capture c = new TraceBench.Capture();
        c.capture = "x86-q35/swiotlb-force:x86-q35";
        c.setup();
        assertThat(c.lines).isGreaterThan(10_000);
        Blackhole bh = new Blackhole(
                "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
        new TraceBench().parse(c, bh);
        TraceBench.Checked k = new TraceBench.Checked();
        k.checker = true;
        assertThat(new TraceBench().replay(c, k)).isPositive();
        assertThat(new TraceBench().boot(c)).isNotNull();
    }
}
