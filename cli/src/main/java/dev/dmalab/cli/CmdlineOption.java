package dev.dmalab.cli;

import picocli.CommandLine.Option;

/** {@code --cmdline PARAMS}: kernel parameters added to the platform's, shared by the commands that boot one machine. */
final class CmdlineOption {
    @Option(
            names = "--cmdline",
            paramLabel = "PARAMS",
            defaultValue = "",
            description = "Kernel parameters added to the platform's, e.g. 'swiotlb=force' or 'swiotlb=512,force'.")
    String cmdline;
}
