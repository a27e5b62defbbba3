train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
