train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
