package dev.dmalab.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Platforms;
import dev.dmalab.scenario.Workload;
import dev.dmalab.scenario.Workloads;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The matrix of the built-in library, with its expected outcomes written down: every built-in workload but the
 * checker corpus ({@code check-*}, which {@code CheckCorpusTest} covers) on every built-in platform and kernel
 * version, compared cell by cell with {@code src/test/resources/matrix/built-in.txt}. A new workload, platform or
 * kernel, or a change of the model that changes an outcome, makes this test fail until the file is regenerated
 * (see the file's header) and the difference reviewed.
 */
class BuiltInMatrixTest {
    static final Path GOLDEN = Path.of("src/test/resources/matrix/built-in.txt");

    /** Set to {@code true} to rewrite the golden file from this version's outcomes instead of checking it. */
    static final String REGENERATE = "dmalab.matrix.regenerate";

    static final String HEADER = String.join(
            "\n",
            "# The matrix of dmalab's built-in library: every built-in workload except the checker corpus (check-*,",
            "# covered by CheckCorpusTest) on every built-in platform and kernel version, seed 1, with the DMA checker,",
            "# as 'dmalab matrix WORKLOAD' runs it. One line per cell: workload, platform, kernel, outcome.",
            "#",
            "# Generated and checked by core/src/test/java/dev/dmalab/matrix/BuiltInMatrixTest.java, which fails when",
            "# any line differs. After an intended change (a new workload, platform or kernel; a model fix), regenerate",
            "# it from the repository root with",
            "#   mvn -q test -pl core -Dtest=BuiltInMatrixTest -D" + REGENERATE + "=true",
            "# and review the diff before committing it.",
            "");

    /** The workloads of the golden file, in library order. */
    static List<Workload> workloads() {
        List<Workload> out = new ArrayList<>();
        for (Workload w : Workloads.all()) {
            if (!w.name().startsWith(Workloads.CORPUS_PREFIX)) {
                out.add(w);
            }
        }
        return out;
    }

    /** The file's text for this version: the header, then one block of lines per workload. */
    static String render() {
        StringBuilder sb = new StringBuilder(HEADER);
        for (Workload w : workloads()) {
            MatrixResult r = Matrix.run(
                    new Matrix.Request(new Subject.OfWorkload(w), Platforms.all(), KernelVersion.builtIn(), "", 1),
                    Matrix.Progress.NONE);
            sb.append('\n');
            for (Cell c : r.cells()) {
                sb.append(String.format(
                        Locale.ROOT, "%-27s %-20s %-8s %s\n", w.name(), c.platform(), c.kernel(), c.label()));
            }
        }
        return sb.toString();
    }

    @Test
    void theBuiltInLibraryHasTheOutcomesWrittenDown() throws IOException {
        String now = render();
        if (Boolean.getBoolean(REGENERATE)) {
            Files.writeString(GOLDEN, now, StandardCharsets.UTF_8);
            System.out.println("BuiltInMatrixTest: rewrote " + GOLDEN.toAbsolutePath());
            return;
        }
        assertThat(GOLDEN)
                .as("the golden file (generate it with -D" + REGENERATE + "=true)")
                .exists();
        List<String> expected = Files.readAllLines(GOLDEN, StandardCharsets.UTF_8);
        List<String> actual = now.lines().toList();
        List<String> differences = new ArrayList<>();
        for (int i = 0; i < Math.max(expected.size(), actual.size()); i++) {
            String was = i < expected.size() ? expected.get(i) : "(no line)";
            String is = i < actual.size() ? actual.get(i) : "(no line)";
            if (!was.equals(is)) {
                differences.add("line " + (i + 1) + ": file says '" + was + "', this version '" + is + "'");
            }
        }
        assertThat(differences)
                .as("cells of the built-in matrix against " + GOLDEN + " (if the change is intended, regenerate with"
                        + " -D" + REGENERATE + "=true and review the diff)")
                .isEmpty();
    }

    @Test
    void everyWorkloadOfTheLibraryIsInTheGoldenFileButNoCorpusScenario() throws IOException {
        List<String> named = new ArrayList<>();
        for (String line : Files.readAllLines(GOLDEN, StandardCharsets.UTF_8)) {
            if (!line.isBlank() && !line.startsWith("#")) {
                String w = line.split("\\s+", 2)[0];
                if (!named.contains(w)) {
                    named.add(w);
                }
            }
        }
        assertThat(named).noneMatch(w -> w.startsWith(Workloads.CORPUS_PREFIX));
        assertThat(named)
                .containsExactlyElementsOf(
                        workloads().stream().map(Workload::name).toList());
    }
}
