package dev.dmalab.scenario;

import java.util.ArrayList;
import java.util.List;

/**
 * The built-in workloads, in the order {@code dmalab workloads} lists them: every variant of every scenario of
 * the built-in library ({@link ScenarioLibrary}).
 */
public final class Workloads {
    private Workloads() {}

    /** The prefix of the checker corpus' scenarios. */
    public static final String CORPUS_PREFIX = "check-";

    public static List<Workload> all() {
        List<Workload> all = new ArrayList<>();
        for (Scenario s : ScenarioLibrary.all()) {
            all.addAll(ScenarioWorkload.of(s));
        }
        return List.copyOf(all);
    }

    /** The built-in workload {@code name}. */
    public static Workload byName(String name) {
        List<String> names = new ArrayList<>();
        for (Workload w : all()) {
            if (w.name().equals(name)) {
                return w;
            }
            if (!w.name().startsWith(CORPUS_PREFIX)) {
                names.add(w.name());
            }
        }
        throw new IllegalArgumentException("unknown workload '" + name + "' (built-in: " + String.join(", ", names)
                + ", and the checker corpus " + CORPUS_PREFIX + "*: see 'dmalab scenarios')");
    }
}
