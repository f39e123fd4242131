package dev.dmalab.cli;

import dev.dmalab.platform.InputException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code dmalab} command. Exit codes: 0 clean, 1 the workload failed on the modelled platform (Oops, failures),
 * 2 usage or input error (one line naming the file, line and field; never a stack trace), 3 an internal dmalab error.
 */
@Command(
        name = "dmalab",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "An executable model of the Linux DMA-mapping stack (DMA API core, dma-direct, swiotlb, arch"
                + " cache maintenance, Xen's swiotlb over a modelled hypervisor, the driver core) on modelled machines"
                + " whose memory and caches hold real bytes.",
        subcommands = {
            DemoCommand.class,
            PlatformsCommand.class,
            KernelsCommand.class,
            WorkloadsCommand.class,
            ScenariosCommand.class,
            RunCommand.class,
            ExplainCommand.class,
            ReplayCommand.class,
            MatrixCommand.class,
            BenchCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Callable<Integer> {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_INTERNAL = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return EXIT_OK;
    }

    /** Builds the command line with dmalab's error handling. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("dmalab: " + oneLine(ex.getMessage()) + " (try '"
                    + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            PrintWriter err = line.getErr();
            if (ex instanceof InputException || ex instanceof UsageException) {
                err.println("dmalab: " + oneLine(ex.getMessage()));
                return EXIT_USAGE;
            }
            err.println("dmalab: internal error (a bug in dmalab, please report it): " + ex);
            ex.printStackTrace(err);
            return EXIT_INTERNAL;
        });
        return cl;
    }

    /** An error message as one line: usage and input errors are always exactly one line on stderr. */
    static String oneLine(String message) {
        return String.valueOf(message).strip().replaceAll("\\s*\\R\\s*", " ");
    }

    public static void main(String[] args) {
        CommandLine cl = commandLine();
        int code = cl.execute(args);
        cl.getOut().flush();
        cl.getErr().flush();
        System.exit(code);
    }

    /** The version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"dmalab " + (v == null ? "(development build)" : v)};
        }
    }
}
