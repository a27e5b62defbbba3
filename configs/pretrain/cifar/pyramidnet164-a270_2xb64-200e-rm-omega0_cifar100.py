# Ablation (paper Table 2, "RS + HIS", CIFAR-100): RM without the consistency
# loss (omega = 0; the RoI branch still runs, with weight 0, so that DDP sees
# no unused parameters). Numbers: metafile.yml.
_base_ = './pyramidnet164-a270_2xb64-200e-rm_cifar100.py'
model = dict(head=dict(omega=0.0))
