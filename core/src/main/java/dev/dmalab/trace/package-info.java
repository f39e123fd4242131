/**
 * ftrace text: the writer that prints the modelled kernel's {@code dma:*} and {@code swiotlb:*} events in the exact
 * format of {@code /sys/kernel/tracing/trace} of the modelled version ({@link dev.dmalab.trace.FtraceWriter}), and
 * the parser that reads real captures back ({@link dev.dmalab.trace.FtraceParser}), so that dmalab's runs and a
 * real kernel's can be diffed line by line.
 *
 * <p>Models the output of {@code include/trace/events/dma.h} (6.12.0 and 6.12.y forms) and {@code
 * include/trace/events/swiotlb.h}, and ftrace's default line prefix.
 *
 * <p>May use: {@code dma}, {@code kernel}, {@code device}, {@code util}.
 */
package dev.dmalab.trace;
