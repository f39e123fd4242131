/**
 * Kernel-wide facilities the DMA stack leans on: {@link dev.dmalab.kernel.KernelVersion} with its named feature
 * switches (versions are data: code asks for a feature, never compares version numbers), the printk log with
 * rate limits and WARN_ONCE, the execution context ({@code raw_smp_processor_id()}, {@code current->comm}), and
 * modelled crashes: an explicit {@code deref} or {@code BUG_ON} raises a {@link dev.dmalab.kernel.KernelOops}
 * whose report lists the kernel function names of the modelled frames ({@link
 * dev.dmalab.kernel.KernelFunction}).
 *
 * <p>May use: {@code cache}, {@code memory}, {@code util}.
 */
package dev.dmalab.kernel;
