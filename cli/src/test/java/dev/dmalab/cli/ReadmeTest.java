package dev.dmalab.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keeps the README's tour true: every {@code $ ./dmalab ...} command in a fenced block is run in-process and its
 * pasted output compared with what this version prints. A block may be abridged with lines {@code ...}: the runs of
 * lines between them must appear in the output in order, each contiguous; lines before the first {@code ...} are the
 * output's first lines, lines after the last one its last lines. {@code | head -N} takes the first N lines; a {@code --trace}
 * or {@code --report} file goes to a temporary folder; {@code testdata/} paths are the repository's; a command naming a file the
 * repository does not have (an example of bad input) is skipped.
 */
class ReadmeTest {
    static final Path README = Path.of("..", "README.md");

    /** One command of a document and the output pasted under it. */
    record Example(String file, int line, String command, List<String> output) {
        @Override
        public String toString() {
            return file + ":" + line + ": " + command;
        }
    }

    static Stream<Example> examples() throws IOException {
        List<Example> out = examples(README);
        assertThat(out).as("README examples").hasSizeGreaterThanOrEqualTo(6);
        return out.stream();
    }

    /** The {@code $ ./dmalab ...} commands in the fenced blocks of a Markdown file, with their pasted output. */
    static List<Example> examples(Path doc) throws IOException {
        List<String> lines = Files.readAllLines(doc, StandardCharsets.UTF_8);
        List<Example> out = new ArrayList<>();
        boolean inBlock = false;
        Example current = null;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.startsWith("```")) {
                inBlock = !inBlock;
                current = null;
                continue;
            }
            if (!inBlock) {
                continue;
            }
            if (l.startsWith("$ ")) {
                String cmd = l.substring(2);
                current = cmd.startsWith("./dmalab")
                        ? new Example(doc.getFileName().toString(), i + 1, cmd, new ArrayList<>())
                        : null;
                if (current != null) {
                    out.add(current);
                }
            } else if (current != null) {
                current.output().add(l);
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void theReadmeShowsWhatThisVersionPrints(Example ex, @TempDir Path tmp) {
        check(ex, tmp);
    }

    /** Runs the example in-process and compares its output with the one pasted in the document. */
    static void check(Example ex, Path tmp) {
        String cmd = ex.command();
        int head = -1;
        int pipe = cmd.indexOf(" | head -");
        if (pipe >= 0) {
            head = Integer.parseInt(cmd.substring(pipe + " | head -".length()).trim());
            cmd = cmd.substring(0, pipe);
        }
        List<String> args = new ArrayList<>(Arrays.asList(cmd.trim().split("\\s+")));
        args.remove(0); // ./dmalab
        if (args.isEmpty()) {
            args.add("demo"); // what the launcher runs by default
        }
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.startsWith("testdata/") || a.startsWith("core/src/")) {
                args.set(i, "../" + a); // the documents' paths are the repository's; the test runs in cli/
            }
            if ((a.equals("--trace") || a.equals("--report")) && i + 1 < args.size()) {
                args.set(i + 1, tmp.resolve(args.get(i + 1)).toString());
            }
            assumeTrue(!a.endsWith(".yaml") || Files.exists(Path.of("..", a)), "an example of a user's own file: " + a);
        }
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        List<String> actual = new ArrayList<>(
                (r.out() + r.err()).replace("../testdata/", "testdata/").lines().toList());
        if (head >= 0 && actual.size() > head) {
            actual = actual.subList(0, head);
        }
        List<String> shown = ex.output();
        if (!shown.contains("...")) {
            assertThat(actual).as(ex.toString()).containsExactlyElementsOf(shown);
            return;
        }
        // Abridged: the runs of lines between "..." appear in order, contiguous; a block that does not start (end)
        // with "..." must start (end) where the output does.
        List<List<String>> runs = new ArrayList<>();
        List<String> run = new ArrayList<>();
        for (String line : shown) {
            if (line.equals("...")) {
                runs.add(run);
                run = new ArrayList<>();
            } else {
                run.add(line);
            }
        }
        runs.add(run);
        int at = 0;
        for (int k = 0; k < runs.size(); k++) {
            List<String> want = runs.get(k);
            if (want.isEmpty()) {
                continue;
            }
            int found = -1;
            for (int i = at; i + want.size() <= actual.size() && found < 0; i++) {
                if (actual.subList(i, i + want.size()).equals(want)) {
                    found = i;
                }
                if (k == 0) {
                    break; // the first run is anchored at the start
                }
            }
            assertThat(found)
                    .as(ex + ": lines " + want + " in order in " + actual)
                    .isGreaterThanOrEqualTo(0);
            at = found + want.size();
            if (k == runs.size() - 1) {
                assertThat(at).as(ex + ": the block ends where the output does").isEqualTo(actual.size());
            }
        }
    }
}
