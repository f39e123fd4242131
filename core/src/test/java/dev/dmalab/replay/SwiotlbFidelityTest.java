package dev.dmalab.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.platform.Platforms;
import dev.dmalab.testing.Captures;
import dev.dmalab.trace.FtraceParser;
import dev.dmalab.trace.TraceEvent;
import dev.dmalab.trace.TraceRecord;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The swiotlb model configured as the captured machine must choose the kernel's bounce address for every bounced
 * mapping of the real captures, open-loop (validated-swiotlb.md: 100% is the bar).
 */
class SwiotlbFidelityTest {

    /** Boots {@code platform} as the capture's kernel command line says, with the pool base derived from the trace. */
    static Machine bootAsCapture(String capture, String platform) throws Exception {
        PlatformProfile profile = Platforms.builtIn(platform);
        String swiotlbParam = Captures.cmdlineParam(capture, "swiotlb");
        Machine.BootOptions opts = Machine.BootOptions.DEFAULT.withCmdline(swiotlbParam);
        Machine probe = Machine.boot(profile, KernelVersion.V6_12, opts);
        long nslabs = probe.swiotlbGeometry().nslabs();
        int nareas = probe.swiotlbGeometry().nareas();
        long base = firstBounceBase(capture, nareas, nslabs);
        return Machine.boot(profile, KernelVersion.V6_12, opts.withSwiotlbBase(base));
    }

    /** The pool base by validated-swiotlb §2 from the first bounce and the map line that reports its slot. */
    static long firstBounceBase(String capture, int nareas, long nslabs) throws Exception {
        Path trace = Captures.dir(capture).resolve("trace.txt.xz");
        try (FtraceParser p = FtraceParser.open(trace, true)) {
            TraceRecord bounce = null;
            for (TraceRecord r = p.next(); r != null; r = p.next()) {
                if (bounce == null && r.event() instanceof TraceEvent.SwiotlbBounced) {
                    bounce = r;
                } else if (bounce != null && r.cpu() == bounce.cpu()) {
                    long devAddr = ((TraceEvent.SwiotlbBounced) bounce.event()).devAddr();
                    if (r.event() instanceof TraceEvent.Map m && m.phys() == devAddr) {
                        return PoolBase.derive(m.dmaAddr(), bounce.cpu(), nareas, nslabs, 4096);
                    }
                    if (r.event() instanceof TraceEvent.MapSg m && m.phys()[0] == devAddr) {
                        return PoolBase.derive(m.dmaAddrs()[0], bounce.cpu(), nareas, nslabs, 4096);
                    }
                }
            }
        }
        throw new AssertionError("no bounced mapping in " + capture);
    }

    static SwiotlbReplay.Result replay(Machine m, String capture, long limit) throws Exception {
        SwiotlbReplay replay = new SwiotlbReplay(m);
        try (FtraceParser p = FtraceParser.open(Captures.dir(capture).resolve("trace.txt.xz"), true)) {
            for (TraceRecord r = p.next(); r != null && replay.predicted() < limit; r = p.next()) {
                replay.accept(r);
            }
        }
        m.swiotlb().defaultMem().defpool().checkInvariants();
        return replay.result();
    }

    @Test
    void derivedPoolBaseOfTheX86ForceCaptureIsTheFirstSlotHandedOut() throws Exception {
        // README observation 4: "the first slot handed out is 0x79800000" (64 MiB pool, one area).
        assertThat(firstBounceBase("x86-q35/swiotlb-force", 1, 32768)).isEqualTo(0x79800000L);
    }

    @Test
    void firstFiveHundredBouncesOfTheX86ForceCaptureAreExact() throws Exception {
        Machine m = bootAsCapture("x86-q35/swiotlb-force", "x86-q35");
        SwiotlbReplay.Result r = replay(m, "x86-q35/swiotlb-force", 500);
        assertThat(r.predicted()).isEqualTo(500);
        assertThat(r.firstMismatches()).isEmpty();
        assertThat(r.exact()).isEqualTo(500);
    }

    @Test
    void everyBounceOfTheX86ForceCaptureIsExact() throws Exception {
        Machine m = bootAsCapture("x86-q35/swiotlb-force", "x86-q35");
        SwiotlbReplay.Result r = replay(m, "x86-q35/swiotlb-force", Long.MAX_VALUE);
        assertThat(r.firstMismatches()).isEmpty();
        assertThat(r.predicted()).isEqualTo(19569);
        assertThat(r.fidelity()).isEqualTo(1.0);
    }

    @Test
    void everyBounceOfTheArm64Force32mCaptureIsExact() throws Exception {
        String capture = "arm64-virt/arm64-native-swiotlb-force-32M";
        Machine m = bootAsCapture(capture, "arm64-virt");
        // arm64 prints the pool: the derived base must agree with dmesg.
        assertThat(Captures.read(capture, "dmesg.txt"))
                .contains("software IO TLB: mapped [mem 0x"
                        + String.format("%016x", m.swiotlbGeometry().base()));
        SwiotlbReplay.Result r = replay(m, capture, Long.MAX_VALUE);
        assertThat(r.firstMismatches()).isEmpty();
        assertThat(r.predicted())
                .as("every swiotlb_bounced event of the capture")
                .isEqualTo(8943);
        assertThat(r.fidelity()).isEqualTo(1.0);
    }
}
