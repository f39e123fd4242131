package dev.dmalab.kernel;

/**
 * What the kernel would call "current": the CPU the code runs on ({@code raw_smp_processor_id()}), the task
 * ({@code current->comm}, {@code current->pid}) and the context flags ftrace prints. Workloads and trace replay
 * set it before each step; per-CPU structures (swiotlb areas, IOVA rcaches) are keyed by {@link #cpu()}.
 */
public final class ExecContext {
    private final int cpus;
    private int cpu;
    private String comm = "swapper/0";
    private int pid = 1;
    private String flags = ".....";

    public ExecContext(int cpus) {
        if (cpus < 1) {
            throw new IllegalArgumentException("a machine needs at least one CPU");
        }
        this.cpus = cpus;
    }

    public int cpus() {
        return cpus;
    }

    /** {@code raw_smp_processor_id()}. */
    public int cpu() {
        return cpu;
    }

    public String comm() {
        return comm;
    }

    public int pid() {
        return pid;
    }

    /** The five ftrace context flag characters ({@code "....."}, {@code "d.h1."}). */
    public String flags() {
        return flags;
    }

    /** Moves execution to {@code cpu}. */
    public ExecContext onCpu(int cpu) {
        if (cpu < 0 || cpu >= cpus) {
            throw new IllegalArgumentException("CPU " + cpu + " does not exist (the machine has " + cpus + ")");
        }
        this.cpu = cpu;
        return this;
    }

    /** Sets the running task. */
    public ExecContext task(String comm, int pid) {
        this.comm = comm;
        this.pid = pid;
        return this;
    }

    /** Sets the ftrace context flags; must be five characters. */
    public ExecContext flags(String flags) {
        if (flags.length() != 5) {
            throw new IllegalArgumentException("ftrace flags are five characters: '" + flags + "'");
        }
        this.flags = flags;
        return this;
    }
}
