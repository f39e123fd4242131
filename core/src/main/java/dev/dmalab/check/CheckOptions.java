package dev.dmalab.check;

/**
 * How the checker reports, after dma-debug's switches (spec §4.1–4.2).
 *
 * @param allErrors report every dma-debug error (debugfs {@code all_errors}); default false: only the first {@code
 *     numErrors} are reported, the rest counted
 * @param numErrors how many dma-debug errors to report when not {@code allErrors} (debugfs {@code num_errors},
 *     default 1)
 * @param driverFilter report dma-debug errors only for devices bound to this driver ({@code dma_debug_driver=});
 *     null for all
 * @param checkMapErrors whether to report mappings never checked with {@code dma_mapping_error()}; a trace replay
 *     turns it off, since traces do not show the checks
 */
public record CheckOptions(boolean allErrors, int numErrors, String driverFilter, boolean checkMapErrors) {
    /** dma-debug's defaults: the first error only, every driver. */
    public static final CheckOptions DEFAULT = new CheckOptions(false, 1, null, true);

    public CheckOptions {
        if (numErrors < 0) {
            throw new IllegalArgumentException("numErrors must not be negative: " + numErrors);
        }
        if (driverFilter != null && driverFilter.isEmpty()) {
            driverFilter = null;
        }
    }

    public CheckOptions withAllErrors(boolean all) {
        return new CheckOptions(all, numErrors, driverFilter, checkMapErrors);
    }

    public CheckOptions withDriverFilter(String driver) {
        return new CheckOptions(allErrors, numErrors, driver, checkMapErrors);
    }

    public CheckOptions withCheckMapErrors(boolean check) {
        return new CheckOptions(allErrors, numErrors, driverFilter, check);
    }
}
