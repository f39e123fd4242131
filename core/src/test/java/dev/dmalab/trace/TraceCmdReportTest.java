package dev.dmalab.trace;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code trace-cmd report} layout of a real capture reads as the same events as its ftrace text. Each event line
 * of the capture is laid out as trace-cmd prints it — no irq-flags column (or, with {@code -l}, the flags), the event
 * name padded, a marker as {@code print: tracing_mark_write: TEXT}, under trace-cmd's header lines — and the two
 * parses must agree on everything but the flags.
 */
class TraceCmdReportTest {
    private static final Pattern FTRACE =
            Pattern.compile("^\\s*(.*)-(\\d+)\\s+\\[(\\d+)\\]\\s+(\\S+)\\s+(\\d+\\.\\d+): ([a-z_0-9]+): (.*)$");

    @ParameterizedTest
    @ValueSource(strings = {"x86-q35/swiotlb-force", "x86-q35/iommu-strict", "arm64-virt/xen-arm64-dom0"})
    void aCaptureInTraceCmdLayoutReadsAsTheSameEvents(String capture) {
        for (boolean latency : new boolean[] {false, true}) {
            List<String> ftrace = new ArrayList<>();
            StringBuilder report = new StringBuilder("cpus=4\nversion = 6\nCPU 3 is empty\n");
            CaptureLines.forEachRawLine(capture, raw -> {
                Matcher m = FTRACE.matcher(raw.text());
                if (raw.text().startsWith("#") || !m.matches()) {
                    return; // comments and function-tracer lines
                }
                ftrace.add(raw.text());
                boolean marker = m.group(6).equals("tracing_mark_write");
                report.append(String.format(
                                Locale.ROOT,
                                "%16s-%-5s [%s] %s%s: %-22s ",
                                m.group(1),
                                m.group(2),
                                m.group(3),
                                latency ? m.group(4) + " " : "",
                                m.group(5),
                                (marker ? "print" : m.group(6)) + ":"))
                        .append(marker ? "tracing_mark_write: " : "")
                        .append(m.group(7))
                        .append('\n');
            });
            assertThat(ftrace).as(capture).hasSizeGreaterThan(1000);
            FtraceParser original = new FtraceParser(capture, new StringReader(String.join("\n", ftrace) + "\n"), true);
            FtraceParser tc =
                    new FtraceParser(capture + " (trace-cmd report)", new StringReader(report.toString()), true);
            int n = 0;
            int markers = 0;
            for (TraceRecord want = original.next(); want != null; want = original.next()) {
                TraceRecord got = tc.next();
                assertThat(got).as(capture + " record " + n).isNotNull();
                String where = capture + (latency ? " -l" : "") + ": " + got.text();
                assertThat(got.comm()).as(where).isEqualTo(want.comm());
                assertThat(got.pid()).as(where).isEqualTo(want.pid());
                assertThat(got.cpu()).as(where).isEqualTo(want.cpu());
                assertThat(got.timestampNs()).as(where).isEqualTo(want.timestampNs());
                assertThat(got.eventName()).as(where).isEqualTo(want.eventName());
                assertThat(got.event().getClass())
                        .as(where)
                        .isEqualTo(want.event().getClass());
                if (n % 97 == 0 || want.event() instanceof TraceEvent.Marker) {
                    // the payload text is the same; a sample is compared field by field (all of it is slow)
                    assertThat(got.event()).as(where).usingRecursiveComparison().isEqualTo(want.event());
                }
                assertThat(got.flags()).as(where).isEqualTo(latency ? want.flags() : "");
                if (want.event() instanceof TraceEvent.Marker) {
                    markers++;
                }
                n++;
            }
            assertThat(tc.next()).isNull();
            assertThat(tc.malformedLines()).isZero();
            assertThat(n).isEqualTo(ftrace.size());
            assertThat(markers).as("the captures carry markers").isPositive();
        }
    }
}
