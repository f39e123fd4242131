package dev.dmalab.platform;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.dmalab.util.Bits;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * A YAML document as a tree whose every node knows its file, line and dotted path, so that any error about it
 * can say where it is. Strict: duplicate keys and unknown keys ({@link #checkKeys}) are errors, and scalars are
 * kept as the text the user wrote (so {@code 0x1000}, {@code 64K} and {@code 64} are all read by dmalab's own
 * rules, not YAML 1.1's).
 */
public final class YamlNode {
    private enum Kind {
        MAP,
        LIST,
        SCALAR,
        NULL
    }

    private static final YAMLFactory FACTORY = new YAMLFactory();

    private final String file;
    private final String path;
    private final int line;
    private final Kind kind;
    private final Map<String, YamlNode> map;
    private final List<YamlNode> list;
    private final String text;

    private YamlNode(
            String file,
            String path,
            int line,
            Kind kind,
            Map<String, YamlNode> map,
            List<YamlNode> list,
            String text) {
        this.file = file;
        this.path = path;
        this.line = line;
        this.kind = kind;
        this.map = map;
        this.list = list;
        this.text = text;
    }

    /** Parses a whole document; the root must be a mapping. */
    public static YamlNode parse(String file, Reader reader) {
        try (JsonParser p = FACTORY.createParser(reader)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new InputException(file, 1, null, "the file is empty");
            }
            YamlNode root = read(file, "", p, t, 0);
            if (root.kind != Kind.MAP) {
                throw new InputException(file, root.line, null, "expected a mapping at the top level");
            }
            return root;
        } catch (IOException e) {
            String msg = e.getMessage() == null
                    ? e.toString()
                    : e.getMessage().lines().findFirst().orElse("");
            int line = e instanceof com.fasterxml.jackson.core.JsonProcessingException jpe && jpe.getLocation() != null
                    ? jpe.getLocation().getLineNr()
                    : 0;
            // SnakeYAML knows where the problem is (Jackson's location is where its parser stood, often a line
            // earlier) and what it is (the message's first line is only the context, "while scanning ...").
            if (e.getCause() instanceof MarkedYAMLException m && m.getProblemMark() != null && m.getProblem() != null) {
                line = m.getProblemMark().getLine() + 1;
                msg = m.getProblem().lines().findFirst().orElse("");
                if (m.getContext() != null && m.getContextMark() != null) {
                    msg += " (" + m.getContext() + " started at line "
                            + (m.getContextMark().getLine() + 1) + ")";
                }
            }
            throw new InputException(file, line, null, "not valid YAML: " + msg);
        }
    }

    /**
     * Reads the node starting at token {@code t}. {@code ownKeyLine} is the line of the key whose value this is (0 for
     * list elements and the root): errors about a value name its key's line, also when the value is a block mapping
     * or list that starts on the next line.
     */
    private static YamlNode read(String file, String path, JsonParser p, JsonToken t, int ownKeyLine)
            throws IOException {
        int line = ownKeyLine > 0 ? ownKeyLine : p.currentTokenLocation().getLineNr();
        switch (t) {
            case START_OBJECT -> {
                Map<String, YamlNode> m = new LinkedHashMap<>();
                JsonToken k;
                while ((k = p.nextToken()) == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    int keyLine = p.currentTokenLocation().getLineNr();
                    String childPath = path.isEmpty() ? key : path + "." + key;
                    if (m.containsKey(key)) {
                        throw new InputException(file, keyLine, childPath, "duplicate key");
                    }
                    m.put(key, read(file, childPath, p, p.nextToken(), keyLine));
                }
                return new YamlNode(file, path, line, Kind.MAP, m, null, null);
            }
            case START_ARRAY -> {
                List<YamlNode> l = new ArrayList<>();
                JsonToken e;
                int i = 0;
                while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
                    l.add(read(file, path + "[" + i + "]", p, e, 0));
                    i++;
                }
                return new YamlNode(file, path, line, Kind.LIST, null, l, null);
            }
            case VALUE_NULL -> {
                return new YamlNode(file, path, line, Kind.NULL, null, null, null);
            }
            default -> {
                return new YamlNode(file, path, line, Kind.SCALAR, null, null, p.getText());
            }
        }
    }

    public String file() {
        return file;
    }

    public int line() {
        return line;
    }

    public String path() {
        return path;
    }

    /** An error about this node. */
    public InputException error(String reason) {
        return new InputException(file, line, path, reason);
    }

    public boolean isMap() {
        return kind == Kind.MAP;
    }

    public boolean isList() {
        return kind == Kind.LIST;
    }

    public boolean isScalar() {
        return kind == Kind.SCALAR;
    }

    /** Rejects keys outside {@code allowed}, naming the first unknown one and the known ones. */
    public YamlNode checkKeys(String... allowed) {
        requireMap();
        Set<String> ok = Set.of(allowed);
        for (Map.Entry<String, YamlNode> e : map.entrySet()) {
            if (!ok.contains(e.getKey())) {
                throw e.getValue().error("unknown key (known: " + String.join(", ", new TreeSet<>(ok)) + ")");
            }
        }
        return this;
    }

    private void requireMap() {
        if (kind != Kind.MAP) {
            throw error("expected a mapping");
        }
    }

    public boolean has(String key) {
        requireMap();
        YamlNode n = map.get(key);
        return n != null && n.kind != Kind.NULL;
    }

    /** The child {@code key}, which must be present. */
    public YamlNode get(String key) {
        requireMap();
        YamlNode n = map.get(key);
        if (n == null || n.kind == Kind.NULL) {
            // an empty value ("memory:") is reported at its own line, an absent key at its mapping's
            throw new InputException(
                    file, n == null ? line : n.line, path.isEmpty() ? key : path + "." + key, "missing required field");
        }
        return n;
    }

    /** The keys of a mapping, in file order. */
    public List<String> keys() {
        requireMap();
        return List.copyOf(map.keySet());
    }

    /** The child {@code key} even when its value is empty (a null node that knows its line), or null when absent. */
    public YamlNode raw(String key) {
        requireMap();
        return map.get(key);
    }

    /** The child {@code key}, or null when absent. */
    public YamlNode opt(String key) {
        requireMap();
        YamlNode n = map.get(key);
        return n == null || n.kind == Kind.NULL ? null : n;
    }

    /** The elements of a list. */
    public List<YamlNode> elements() {
        if (kind != Kind.LIST) {
            throw error("expected a list");
        }
        return Collections.unmodifiableList(list);
    }

    /** The scalar text. */
    public String text() {
        if (kind != Kind.SCALAR) {
            throw error("expected a single value");
        }
        return text;
    }

    public String string(String key) {
        return get(key).text();
    }

    public String string(String key, String dflt) {
        YamlNode n = opt(key);
        return n == null ? dflt : n.text();
    }

    /** A number: decimal, {@code 0x} hex, or with a K/M/G binary suffix. */
    public long size() {
        String t = text();
        try {
            return Bits.parseSize(t);
        } catch (NumberFormatException | ArithmeticException e) {
            throw error("expected a number (decimal, 0x hex, or with K/M/G), got " + t);
        }
    }

    public long size(String key) {
        return get(key).size();
    }

    public long size(String key, long dflt) {
        YamlNode n = opt(key);
        return n == null ? dflt : n.size();
    }

    public int integer(String key, int dflt, int min, int max) {
        YamlNode n = opt(key);
        if (n == null) {
            return dflt;
        }
        long v = n.size();
        if (v < min || v > max) {
            throw n.error("expected an integer in [" + min + ", " + max + "], got " + n.text());
        }
        return (int) v;
    }

    public boolean bool(String key, boolean dflt) {
        YamlNode n = opt(key);
        if (n == null) {
            return dflt;
        }
        return switch (n.text()) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw n.error("expected true or false, got " + n.text());
        };
    }

    /**
     * A DMA mask: a width in bits ({@code 32}, {@code 64}) or the mask itself ({@code 0xffffffff}), which must be
     * all ones from bit 0 up.
     */
    public long mask() {
        String t = text();
        long v;
        try {
            v = Bits.parseUnsigned(t);
        } catch (NumberFormatException e) {
            throw error("expected a mask width (1-64) or a hex mask like 0xffffffff, got " + t);
        }
        if (!t.startsWith("0x") && !t.startsWith("0X")) {
            if (v < 1 || v > 64) {
                throw error("expected a mask width (1-64) or a hex mask like 0xffffffff, got " + t);
            }
            return Bits.dmaBitMask((int) v);
        }
        if (Bits.maskWidth(v) <= 0) {
            throw error("a DMA mask must be all ones from bit 0 (like 0xffffffff), got " + t);
        }
        return v;
    }
}
