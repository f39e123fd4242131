package dev.dmalab.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.KernelVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "kernels",
        mixinStandardHelpOptions = true,
        description = "List the modelled kernel versions; --features shows every behaviour switch per version.",
        subcommands = KernelsCommand.Show.class)
final class KernelsCommand implements Callable<Integer> {
    @Option(names = "--features", description = "Show the feature switches of every version as a matrix.")
    boolean features;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<KernelVersion> versions = KernelVersion.builtIn();
        if (json) {
            ArrayNode arr = Json.MAPPER.createArrayNode();
            for (KernelVersion v : versions) {
                ObjectNode o = arr.addObject();
                o.put("version", v.name());
                o.put("description", v.description());
                ArrayNode fs = o.putArray("features");
                for (Feature f : Feature.values()) {
                    if (v.has(f)) {
                        fs.add(f.displayName());
                    }
                }
            }
            spec.commandLine().getOut().println(Json.write(arr));
            return Main.EXIT_OK;
        }
        if (!features) {
            Table t = new Table("VERSION", "DESCRIPTION");
            for (KernelVersion v : versions) {
                t.row(v.name(), v.description());
            }
            spec.commandLine().getOut().print(t);
            spec.commandLine().getOut().println();
            spec.commandLine().getOut().println("'dmalab kernels --features' shows what changes between them.");
            return Main.EXIT_OK;
        }
        List<String> header = new ArrayList<>(List.of("FEATURE"));
        versions.forEach(v -> header.add(v.name()));
        header.add("SINCE");
        Table t = new Table(header.toArray(new String[0]));
        for (Feature f : Feature.values()) {
            List<Object> row = new ArrayList<>(List.of(f.displayName()));
            for (KernelVersion v : versions) {
                row.add(v.has(f) ? "yes" : "-");
            }
            row.add((f.since() == null ? "" : f.since()) + (f.until() == null ? "" : " until " + f.until()));
            t.row(row.toArray());
        }
        spec.commandLine().getOut().print(t);
        return Main.EXIT_OK;
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Describe one version's behaviour switches.")
    static final class Show implements Callable<Integer> {
        @Parameters(paramLabel = "VERSION")
        String version;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            KernelVersion v = UsageException.lookup(() -> KernelVersion.parse(version));
            var out = spec.commandLine().getOut();
            out.println("Linux " + v.name() + ": " + v.description());
            out.println();
            Table t = new Table("", "FEATURE", "WHAT");
            for (Feature f : Feature.values()) {
                t.row(v.has(f) ? "+" : "-", f.displayName(), f.summary());
            }
            out.print(t);
            return Main.EXIT_OK;
        }
    }
}
