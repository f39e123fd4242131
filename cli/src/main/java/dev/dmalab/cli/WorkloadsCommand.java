package dev.dmalab.cli;

import dev.dmalab.scenario.Workload;
import dev.dmalab.scenario.Workloads;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "workloads", mixinStandardHelpOptions = true, description = "List the built-in workloads.")
final class WorkloadsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Table t = new Table("NAME", "DESCRIPTION");
        for (Workload w : Workloads.all()) {
            t.row(w.name(), w.description());
        }
        spec.commandLine().getOut().print(t);
        return Main.EXIT_OK;
    }
}
