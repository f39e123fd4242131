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

    /**
     * A built-in workload by name, or a scenario file (a path ending in {@code .yaml} or {@code .yml}) and one of
     * its variants ({@code variant} null: the first). Bad names and variants are {@link IllegalArgumentException}s;
     * a bad file is an {@code InputException} naming its file, line and field.
     */
    public static Workload resolve(String nameOrFile, String variant) {
        if (nameOrFile.endsWith(".yaml") || nameOrFile.endsWith(".yml")) {
            Scenario s = ScenarioLoader.load(java.nio.file.Path.of(nameOrFile));
            String v = variant == null ? s.variants().get(0) : variant;
            if (!s.variants().contains(v)) {
                throw new IllegalArgumentException("no variant '" + v + "' in " + nameOrFile + " (its variants: "
                        + String.join(", ", s.variants()) + ")");
            }
            return new ScenarioWorkload(s, v);
        }
        if (variant != null) {
            throw new IllegalArgumentException("--variant applies to a scenario file; a built-in workload names its"
                    + " variant itself (e.g. " + CORPUS_PREFIX + "double-unmap-fixed)");
        }
        return byName(nameOrFile);
    }

    /** Whether {@code name} is a built-in workload (a library scenario's variant). */
    public static boolean isBuiltIn(String name) {
        for (Workload w : all()) {
            if (w.name().equals(name)) {
                return true;
            }
        }
        return false;
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
