package dev.dmalab.cli;

import dev.dmalab.scenario.Scenario;
import dev.dmalab.scenario.ScenarioLibrary;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "scenarios",
        mixinStandardHelpOptions = true,
        description = {
            "List the built-in scenarios, one line each; 'scenarios show NAME' prints one's file.",
            "A scenario's first variant runs under its name, the others as NAME-VARIANT (dmalab run NAME-VARIANT)."
                    + " The language is described in docs/SCENARIOS.md."
        },
        subcommands = ScenariosCommand.Show.class)
final class ScenariosCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Table t = new Table("NAME", "VARIANTS", "DESCRIPTION");
        for (Scenario s : ScenarioLibrary.all()) {
            t.row(s.name(), s.variants().size() == 1 ? "-" : String.join(", ", s.variants()), s.description());
        }
        spec.commandLine().getOut().print(t);
        return Main.EXIT_OK;
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Print the file of a built-in scenario (NAME may also be one of its variants' workloads).")
    static final class Show implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "A built-in scenario, e.g. nic-rx-ring or check-double-unmap.")
        String name;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Scenario found = null;
            for (Scenario s : ScenarioLibrary.all()) {
                for (String v : s.variants()) {
                    if (s.workloadName(v).equals(name)) {
                        found = s;
                    }
                }
            }
            if (found == null) {
                throw new UsageException("no built-in scenario '" + name + "' (see 'dmalab scenarios')");
            }
            spec.commandLine().getOut().print(found.source());
            return Main.EXIT_OK;
        }
    }
}
