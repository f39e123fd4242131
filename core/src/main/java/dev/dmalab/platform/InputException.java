package dev.dmalab.platform;

/**
 * Bad input in a file the user gave dmalab (a platform profile, later scenarios and traces): carries the file,
 * line and field so the CLI can print one line such as {@code my.yaml:14: devices[2].dma_mask: expected ...} and
 * exit with status 2.
 */
public final class InputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final int line;
    private final String field;
    private final String reason;

    /**
     * @param line 1-based, or 0 if unknown
     * @param field the dotted path of the offending field, or null
     */
    public InputException(String file, int line, String field, String reason) {
        super(format(file, line, field, reason), null, false, false);
        this.file = file;
        this.line = line;
        this.field = field;
        this.reason = reason;
    }

    private static String format(String file, int line, String field, String reason) {
        StringBuilder sb = new StringBuilder(file);
        if (line > 0) {
            sb.append(':').append(line);
        }
        sb.append(": ");
        if (field != null && !field.isEmpty()) {
            sb.append(field).append(": ");
        }
        return sb.append(reason).toString();
    }

    public String file() {
        return file;
    }

    public int line() {
        return line;
    }

    public String field() {
        return field;
    }

    public String reason() {
        return reason;
    }
}
