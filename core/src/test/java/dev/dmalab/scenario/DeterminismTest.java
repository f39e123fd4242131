package dev.dmalab.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.dma.DmaEvent;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.trace.FtraceParser;
import dev.dmalab.trace.FtraceWriter;
import dev.dmalab.trace.TraceEvent;
import dev.dmalab.trace.TraceRecord;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A run is a pure function of its inputs and seed (DESIGN.md, "Determinism"). */
class DeterminismTest {

    /** One complete run: result, ftrace text, dmesg, and the bytes of every buffer the workload mapped. */
    record Run(RunResult result, String trace, String dmesg, List<byte[]> buffers) {}

    static Run run(String workload, String platform, String kernel, String cmdline, long seed) {
        KernelVersion v = KernelVersion.parse(kernel);
        Machine m = Machine.boot(Platforms.builtIn(platform), v, Machine.BootOptions.DEFAULT.withCmdline(cmdline));
        FtraceWriter writer = new FtraceWriter(v, m.profile().cpus());
        m.events().addListener(writer);
        List<long[]> mapped = new ArrayList<>();
        m.events().addListener(e -> {
            if (e instanceof DmaEvent.Map map) {
                mapped.add(new long[] {map.phys(), map.size()});
            }
        });
        RunResult r = WorkloadRunner.run(Workloads.byName(workload), m, seed);
        StringWriter sw = new StringWriter();
        writer.writeTo(sw);
        List<byte[]> buffers = new ArrayList<>();
        for (long[] b : mapped) {
            byte[] bytes = new byte[(int) b[1]];
            m.memory().contents().read(b[0], bytes, 0, bytes.length);
            buffers.add(bytes);
        }
        return new Run(r, sw.toString(), m.kernel().printk().dmesg(), buffers);
    }

    static boolean sameBuffers(List<byte[]> a, List<byte[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    @ParameterizedTest
    @CsvSource({
        "streaming-roundtrip, x86-q35, 6.12, ''",
        "streaming-roundtrip, x86-q35, 6.12, swiotlb=force",
        "streaming-roundtrip, arm64-virt, 6.12, ''",
        "streaming-roundtrip, arm64-noncoherent, 6.12, ''",
        "streaming-roundtrip, rpi4, 5.4, ''",
        "streaming-roundtrip-nosync, arm64-noncoherent, 6.12, ''",
        "streaming-roundtrip-nosync, arm64-noncoherent, 5.0, swiotlb=force",
        "streaming-roundtrip-nosync, rpi4, 6.12, ''",
        "streaming-roundtrip-nosync, x86-q35, 6.12, swiotlb=force",
        "bug-dma-none, arm64-virt, 5.0-rc2, ''",
    })
    void sameSeedSameEverything(String workload, String platform, String kernel, String cmdline) {
        Run a = run(workload, platform, kernel, cmdline, 42);
        Run b = run(workload, platform, kernel, cmdline, 42);
        assertThat(b.result()).isEqualTo(a.result());
        assertThat(b.trace()).isEqualTo(a.trace());
        assertThat(b.dmesg()).isEqualTo(a.dmesg());
        assertThat(sameBuffers(a.buffers(), b.buffers())).isTrue();
    }

    @ParameterizedTest
    @CsvSource({
        "streaming-roundtrip, x86-q35, 6.12, ''",
        "streaming-roundtrip, arm64-noncoherent, 6.12, ''",
        "streaming-roundtrip, rpi4, 6.12, swiotlb=force",
        "streaming-roundtrip-nosync, arm64-noncoherent, 6.12, ''",
        "streaming-roundtrip-nosync, x86-q35, 6.12, swiotlb=force",
        "streaming-roundtrip-nosync, rpi4, 5.0, ''",
    })
    void differentSeedDifferentDataSameOutcome(String workload, String platform, String kernel, String cmdline) {
        Run a = run(workload, platform, kernel, cmdline, 1);
        Run b = run(workload, platform, kernel, cmdline, 2);
        assertThat(a.buffers()).isNotEmpty();
        assertThat(sameBuffers(a.buffers(), b.buffers()))
                .as("the buffers' bytes depend on the seed")
                .isFalse();
        assertThat(b.result().outcome()).isEqualTo(a.result().outcome());
        assertThat(b.result().failures()).hasSameSizeAs(a.result().failures());
        assertThat(b.result().seed()).isEqualTo(2);
        // the data does not steer the DMA API: same calls, same addresses, same trace
        assertThat(b.trace()).isEqualTo(a.trace());
        for (String c :
                List.of("dma_map_calls", "dma_unmap_calls", "swiotlb_bounced_events", "swiotlb_bytes_to_bounce")) {
            assertThat(b.result().counters().get(c))
                    .as(c)
                    .isEqualTo(a.result().counters().get(c));
        }
    }

    @Test
    void bugReportsDoNotDependOnTheSeed() {
        assertThat(run("bug-dma-none", "rpi4", "6.12", "", 7).result().oops())
                .isEqualTo(run("bug-dma-none", "rpi4", "6.12", "", 8).result().oops());
    }

    /** The model's own trace reads back with the strict parser, and carries the events the version traces. */
    @Test
    void theTraceOfARunParsesStrictlyAndFollowsTheVersion() {
        String t612 = run("streaming-roundtrip", "x86-q35", "6.12", "swiotlb=force", 1)
                .trace();
        List<TraceRecord> records = parse(t612);
        assertThat(t612)
                .startsWith("# tracer: nop\n#\n# entries-in-buffer/entries-written: " + records.size() + "/"
                        + records.size() + "   #P:1\n");
        List<String> names =
                records.stream().map(TraceRecord::eventName).distinct().toList();
        assertThat(names)
                .contains(
                        "tracing_mark_write",
                        "swiotlb_bounced",
                        "dma_map_page",
                        "dma_unmap_page",
                        "dma_sync_single_for_cpu",
                        "dma_alloc",
                        "dma_free");
        assertThat(records).noneMatch(r -> r.event() instanceof TraceEvent.Other);
        assertThat(records.get(0).event()).isEqualTo(new TraceEvent.Marker("ROUNDTRIP 0000:00:02.0 begin"));
        // timestamps never go backwards
        for (int i = 1; i < records.size(); i++) {
            assertThat(records.get(i).timestampNs())
                    .isGreaterThanOrEqualTo(records.get(i - 1).timestampNs());
        }
        // 5.0 has no dma:* tracepoints: only swiotlb_bounced and the markers
        String t50 =
                run("streaming-roundtrip", "x86-q35", "5.0", "swiotlb=force", 1).trace();
        assertThat(parse(t50).stream().map(TraceRecord::eventName).distinct())
                .containsExactlyInAnyOrder("tracing_mark_write", "swiotlb_bounced");
    }

    private static List<TraceRecord> parse(String text) {
        List<TraceRecord> out = new ArrayList<>();
        try (FtraceParser p = new FtraceParser("run.trace", new StringReader(text), true)) {
            for (TraceRecord r = p.next(); r != null; r = p.next()) {
                out.add(r);
            }
        }
        return out;
    }
}
