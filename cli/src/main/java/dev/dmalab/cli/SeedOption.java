package dev.dmalab.cli;

import picocli.CommandLine.Option;

/** {@code --seed N}: the seed of a workload's data, shared by the commands that run workloads. */
final class SeedOption {
    @Option(
            names = "--seed",
            paramLabel = "N",
            defaultValue = "1",
            description = "Seed for the workload's data (default ${DEFAULT-VALUE}).")
    long seed;
}
