package dev.dmalab.scenario;

import dev.dmalab.platform.InputException;
import java.util.List;

/**
 * One step of a scenario: where it was written, which variants run it, and what it does. A step that finds the
 * scenario wrong at run time (an undefined buffer, an index past a list) stops the run with an {@link
 * InputException} naming the step's file and line.
 */
public abstract class Step {
    final String file;
    final int line;
    /** The variants that run the step (null: all), or, when {@link #unless}, those that skip it. */
    private final List<String> when;

    private final boolean unless;

    Step(Ctx at) {
        this.file = at.file;
        this.line = at.line;
        this.when = at.when;
        this.unless = at.unless;
    }

    /** Where a step was written and which variants run it. */
    record Ctx(String file, int line, List<String> when, boolean unless) {}

    /** The step's operation, as the file names it ({@code map}, {@code cpu_read}, ...). */
    abstract String op();

    abstract void exec(ScenarioRun run);

    final boolean runsIn(String variant) {
        return when == null || when.contains(variant) != unless;
    }

    /** Runs the step if the variant runs it. */
    final void run(ScenarioRun run) {
        if (!runsIn(run.variant())) {
            return;
        }
        try {
            exec(run);
        } catch (ScenarioRun.Bad e) {
            throw new InputException(file, line, e.field(), e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new InputException(file, line, op(), e.getMessage());
        }
    }

    /** Runs a block of steps. */
    static void runAll(List<Step> steps, ScenarioRun run) {
        for (Step s : steps) {
            s.run(run);
        }
    }
}
