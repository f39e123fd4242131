/**
 * The platform matrix: one workload (a built-in or a scenario file) or one real trace, run on every combination of
 * platforms and kernel versions, each cell on its own freshly booted machine, with one outcome per cell ({@code
 * ok}, {@code findings N}, {@code failed}, {@code oops}, {@code pool exhausted}, {@code unsupported}) and the swiotlb
 * figures a platform engineer asks for (bytes bounced, peak slots). It models no kernel file: it is the regression
 * hunter's and the platform engineer's loop over {@code dmalab run} and {@code dmalab replay}. {@link
 * dev.dmalab.matrix.Matrix} holds the only {@code ExecutorService} of dmalab; cells run in parallel and come back in
 * platform × kernel order, never in completion order.
 *
 * <p>May use: {@code scenario}, {@code replay}, {@code trace}, {@code platform}, {@code check}, {@code swiotlb},
 * {@code kernel}, {@code memory}, {@code util}.
 */
package dev.dmalab.matrix;
