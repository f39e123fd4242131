package dev.dmalab.scenario;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The built-in scenarios: the files under {@code scenarios/} on the class path, in the order their {@code INDEX}
 * lists them. They are read and checked once, on first use; a broken built-in file is a bug in dmalab (its test
 * loads every one).
 */
public final class ScenarioLibrary {
    private ScenarioLibrary() {}

    private static final class Holder {
        static final List<Scenario> ALL = loadAll();
    }

    /** Every built-in scenario, in library order. */
    public static List<Scenario> all() {
        return Holder.ALL;
    }

    /** The built-in scenario {@code name} (a scenario's name, not a variant's), or null. */
    public static Scenario byName(String name) {
        for (Scenario s : all()) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** The names in the index, in order. */
    static List<String> index() {
        try (InputStream in = resource("INDEX")) {
            List<String> names = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String t = line.strip();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    names.add(t);
                }
            }
            return names;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the scenario index", e);
        }
    }

    private static List<Scenario> loadAll() {
        List<Scenario> out = new ArrayList<>();
        for (String name : index()) {
            Scenario s = ScenarioLoader.load("scenarios/" + name + ".yaml", resource(name + ".yaml"));
            if (!s.name().equals(name)) {
                throw new IllegalStateException("scenarios/" + name + ".yaml names itself " + s.name());
            }
            out.add(s);
        }
        return List.copyOf(out);
    }

    private static InputStream resource(String file) {
        InputStream in = ScenarioLibrary.class.getResourceAsStream("/scenarios/" + file);
        if (in == null) {
            throw new IllegalStateException("no built-in scenario file " + file);
        }
        return in;
    }
}
