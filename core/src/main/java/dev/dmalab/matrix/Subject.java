package dev.dmalab.matrix;

import dev.dmalab.scenario.Workload;
import java.nio.file.Path;
import java.util.Objects;

/** What a matrix runs in every cell: a workload, or a real trace to replay. */
public sealed interface Subject permits Subject.OfWorkload, Subject.OfTrace {
    /** The name shown in output: the workload's name, or the trace's path. */
    String name();

    /**
     * A workload run with {@code WorkloadRunner} under the DMA checker, as {@code dmalab run} runs it. The workload
     * is shared by all cells, which run at the same time on different machines: it must keep no state of its own
     * between runs (built-in and scenario workloads keep theirs in the run's context).
     */
    record OfWorkload(Workload workload) implements Subject {
        public OfWorkload {
            Objects.requireNonNull(workload, "workload");
        }

        @Override
        public String name() {
            return workload.name();
        }
    }

    /**
     * A real trace (ftrace text; {@code .xz} and {@code .gz} read directly) replayed open-loop on each platform as
     * {@code dmalab replay} replays it without the traced machine's files. Malformed lines are skipped.
     */
    record OfTrace(Path trace) implements Subject {
        public OfTrace {
            Objects.requireNonNull(trace, "trace");
        }

        @Override
        public String name() {
            return trace.toString();
        }
    }
}
