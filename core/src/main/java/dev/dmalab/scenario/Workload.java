package dev.dmalab.scenario;

/** Something drivers and devices do on a machine; implementations must be deterministic given the seed. */
public interface Workload {
    /** The name used on the command line ({@code streaming-roundtrip}). */
    String name();

    /** One line for {@code dmalab workloads}. */
    String description();

    /**
     * Runs on the booted machine. A modelled crash propagates as {@code KernelOops}; wrong data and failed DMA
     * operations are recorded in {@code ctx}.
     */
    void run(WorkloadContext ctx);
}
