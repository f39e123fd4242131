package dev.dmalab.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.check.CheckOptions;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.InputException;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The scenario language: what a file may say, the errors it gets (file:line: field: reason), and what runs. */
class ScenarioLoaderTest {
    private static final String HEAD = "name: t\ndescription: a test\nsteps:\n";

    private static Scenario parse(String steps) {
        return ScenarioLoader.parse("t.yaml", HEAD + steps);
    }

    private static String error(String text) {
        try {
            ScenarioLoader.parse("t.yaml", text);
        } catch (InputException e) {
            return e.getMessage();
        }
        throw new AssertionError("no error for:\n" + text);
    }

    private static RunResult run(String text, String platform) {
        Machine m = Machine.boot(Platforms.builtIn(platform), KernelVersion.V6_12);
        m.attachChecker(CheckOptions.DEFAULT.withAllErrors(true));
        Scenario s = ScenarioLoader.parse("t.yaml", text);
        return WorkloadRunner.run(new ScenarioWorkload(s, s.variants().get(0)), m, 1);
    }

    @Test
    void theIssuesExampleError() {
        String text = HEAD + "  - buffer: {name: b, size: 64}\n" + "  - map: {buffer: b, direction: TO_DEV}\n";
        assertThat(error(text))
                .isEqualTo("t.yaml:5: direction: expected one of TO_DEVICE, FROM_DEVICE, BIDIRECTIONAL (or NONE,"
                        + " which BUG()s), got TO_DEV");
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '~',
            ignoreLeadingAndTrailingWhitespace = false,
            value = {
                "  - mapp: {buffer: b}|t.yaml:4: mapp: unknown step (known: task, mark, wait, repeat",
                "  - map: {buffer: b, direction: TO_DEVICE, size: 3}|t.yaml:4: size: unknown key (known: api, as,"
                        + " attrs, buffer, check, direction, len, offset, on_error)",
                "  - map: {buffer: b}|t.yaml:4: direction: missing required field",
                "  - buffer: {name: b, size: 2 * * 3}|t.yaml:4: size: in expression '2 * * 3': unexpected '*' at column 5",
                "  - buffer: {name: b, size: LEN}|t.yaml:4: size: no variable 'LEN' here (in scope: DMA_MAPPING_ERROR,",
                "  - cpu_read: {buffer: b, expect: x, expect_fill: 1}|t.yaml:4: expect_fill: give one of expect,",
                "  - wait: 10 parsecs|t.yaml:4: wait: expected a duration like 500ns, 10us, 2ms or 1s, got 10 parsecs",
                "  - unmap: {handle: h}\\n    when: buggy|t.yaml:5: when: no variant buggy (this scenario's: default)",
                "  - task: {comm: a-very-long-task-name}|t.yaml:4: comm: a task name has 1 to 15 characters",
                "  - map: {buffer: b, direction: TO_DEVICE, attrs: [SKIP_SYNC]}|t.yaml:4: attrs: expected DMA attrs"
                        + " among ALLOC_SINGLE_PAGES,",
                "  - free: {buffer: b}\\n    map: {buffer: b}|t.yaml:5: map: one operation per step ('free' is already"
                        + " this step's)",
                "  - buffer: {name: b, kind: heap, size: 1}|t.yaml:4: kind: expected one of pages, kmalloc, stack,"
                        + " vmalloc, coherent, part, got heap",
                "  - repeat: {times: 2, steps: [{cpu_read: {buffer: \"b[j]\"}}]}|t.yaml:4: buffer: no variable 'j'"
                        + " here (in scope: i,",
            })
    void loadErrorsNameFileLineAndField(String steps, String expected) {
        assertThat(error(HEAD + steps.replace("\\n", "\n"))).startsWith(expected);
    }

    @Test
    void headerErrors() {
        assertThat(error("name: Bad Name\ndescription: x\nsteps: []\n"))
                .isEqualTo("t.yaml:1: name: expected lower-case letters, digits and '-', got Bad Name");
        assertThat(error("name: t\nsteps: []\n")).isEqualTo("t.yaml:1: description: missing required field");
        assertThat(error("name: t\ndescription: x\nexpect: {finding: nope}\nsteps: []\n"))
                .startsWith("t.yaml:3: finding: no checker finding nope (known: invalid-free,");
        assertThat(error("name: t\ndescription: x\nrequires: {features: [WARP_DRIVE]}\nsteps: []\n"))
                .startsWith("t.yaml:3: features: no kernel feature WARP_DRIVE");
        assertThat(error("name: t\ndescription: x\ndevices: some\nsteps: []\n"))
                .isEqualTo("t.yaml:3: devices: expected each, first, none or a mapping, got some");
        assertThat(error("name: t\ndescription: x\nsteps:\n  - map: {buffer: [b\n"))
                .startsWith("t.yaml:5: not valid YAML");
    }

    @Test
    void runTimeErrorsNameTheStepsLine() {
        String text = HEAD + "  - buffer: {name: b, size: 64}\n" + "  - cpu_read: {buffer: c}\n";
        assertThatThrownBy(() -> run(text, "x86-q35"))
                .isInstanceOf(InputException.class)
                .hasMessage("t.yaml:5: buffer: no buffer named 'c' (define it with a buffer step first)");
        String past = HEAD + "  - buffer: {name: b, size: 64}\n" + "  - cpu_read: {buffer: b, offset: 32, len: 64}\n";
        assertThatThrownBy(() -> run(past, "x86-q35"))
                .hasMessage("t.yaml:5: len: bytes 32-96 are not inside 'b' (64 bytes)");
    }

    @Test
    void variantsLoopsAndIndexedNamesRun() {
        String text = "name: t\ndescription: x\nvariants: [good, bad]\ndevices: first\nvars: {N: 4}\nsteps:\n"
                + "  - repeat:\n      times: N\n      var: k\n      steps:\n"
                + "        - buffer: {name: \"b[k]\", size: 100 + k}\n"
                + "        - cpu_write: {buffer: \"b[k]\", save: \"w[k]\"}\n"
                + "        - map: {buffer: \"b[k]\", direction: TO_DEVICE}\n"
                + "        - device_read: {handle: \"b[k]\", expect: \"w[k]\"}\n"
                + "        - unmap: {handle: \"b[k]\"}\n"
                + "          unless: bad\n";
        Scenario s = ScenarioLoader.parse("t.yaml", text);
        assertThat(s.variants()).containsExactly("good", "bad");
        Machine m = Machine.boot(Platforms.builtIn("x86-q35"), KernelVersion.V6_12);
        m.attachChecker(CheckOptions.DEFAULT.withAllErrors(true));
        RunResult good = WorkloadRunner.run(new ScenarioWorkload(s, "good"), m, 1);
        assertThat(good.outcome()).isEqualTo(Outcome.OK);
        assertThat(good.counters())
                .containsEntry("dma_map_calls", 4L)
                .containsEntry("dma_unmap_calls", 4L)
                .containsEntry("bytes_checked", 100L + 101 + 102 + 103);
        assertThat(new ScenarioWorkload(s, "bad").name()).isEqualTo("t-bad");
        Machine m2 = Machine.boot(Platforms.builtIn("x86-q35"), KernelVersion.V6_12);
        m2.attachChecker(CheckOptions.DEFAULT.withAllErrors(true));
        RunResult bad = WorkloadRunner.run(new ScenarioWorkload(s, "bad"), m2, 1);
        assertThat(bad.counters()).containsEntry("dma_map_calls", 4L).containsEntry("dma_unmap_calls", 0L);
    }

    @Test
    void expectationsFailWithTheBytesThatDiffer() {
        String text = HEAD.replace("steps:\n", "devices: first\nsteps:\n")
                + "  - buffer: {name: b, size: 64}\n"
                + "  - cpu_write: {buffer: b, fill: 0x11}\n"
                + "  - cpu_read: {buffer: b, expect_fill: 0x11}\n"
                + "  - cpu_write: {buffer: b, offset: 8, len: 2, fill: 0}\n"
                + "  - cpu_read: {buffer: b, expect_fill: 0x11, why: because}\n"
                + "  - cpu_write: {buffer: b, data: counter}\n"
                + "  - cpu_read: {buffer: b, len: 4, expect_crc32: 0x8bb98613}\n";
        RunResult r = run(text, "x86-q35");
        assertThat(r.outcome()).isEqualTo(Outcome.FAILED);
        assertThat(r.failures())
                .containsExactly("0000:00:02.0: the CPU read from 'b' 2 of 64 bytes wrong (expected 0x11 everywhere);"
                        + " because");
        assertThat(r.counters()).containsEntry("bytes_checked", 64L + 64 + 4).containsEntry("stale_bytes", 2L);
    }

    @Test
    void theLibraryLoadsAndEveryScenarioNamesItself() {
        List<Scenario> all = ScenarioLibrary.all();
        assertThat(all)
                .extracting(Scenario::name)
                .startsWith(
                        "streaming-roundtrip",
                        "bug-dma-none",
                        "xen-dom0-boot",
                        "nic-rx-ring",
                        "nvme-io",
                        "usb-small-buffers")
                .doesNotHaveDuplicates();
        for (Scenario s : all) {
            assertThat(s.file()).isEqualTo("scenarios/" + s.name() + ".yaml");
            assertThat(s.source()).contains("name: " + s.name());
        }
    }
}
