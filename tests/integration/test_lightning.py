"""The PyTorch Lightning callback records start + every epoch into the real store."""

from __future__ import annotations

import pytest

from tests.support.extras import requires

torch = requires("torch")
pl = requires("lightning.pytorch")

from sparsetopo.graphstore.reader import list_snapshots, read_snapshot
from sparsetopo.ingest.callbacks.lightning import SparsetopoCallback


class Tiny(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(6, 3)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.fc(x), y)
        self.log("train_loss", loss, on_epoch=True, on_step=False)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_callback_snapshots_every_epoch(driver, run_name):
    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(32, 6), torch.randint(0, 3, (32,)))
    loader = torch.utils.data.DataLoader(data, batch_size=8)
    model = Tiny()
    trainer = pl.Trainer(max_epochs=3, callbacks=[SparsetopoCallback(run=run_name)],
                         logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(model, loader)
    snaps = list_snapshots(driver, run_name)
    # the start (step 0) and the end of each of the 3 epochs (4 optimizer steps each)
    assert [s["step"] for s in snaps] == [0, 4, 8, 12]
    assert [s["epoch"] for s in snaps] == [0, 1, 2, 3]
    assert all("train_loss" in s for s in snaps[1:])
    final = read_snapshot(driver, run_name)
    torch.testing.assert_close(torch.from_numpy(final.layers["fc.weight"].to_dense(6, 3)),
                               model.fc.weight.detach().T)


class TinyBert(pl.LightningModule):
    """A Hugging Face BERT classifier from a tiny config, trained by Lightning."""

    def __init__(self) -> None:
        super().__init__()
        transformers = pytest.importorskip("transformers")
        config = transformers.BertConfig(vocab_size=40, hidden_size=32, num_hidden_layers=2,
                                         num_attention_heads=4, intermediate_size=64,
                                         max_position_embeddings=16, num_labels=3)
        self.net = transformers.BertForSequenceClassification(config)
        self.example_input_array = torch.randint(0, 40, (2, 8))  # Lightning's own convention

    def forward(self, ids):
        return self.net(input_ids=ids).logits

    def training_step(self, batch, batch_idx):
        ids, y = batch
        loss = torch.nn.functional.cross_entropy(self(ids), y)
        self.log("train_loss", loss, on_epoch=True, on_step=False)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def test_callback_records_a_real_hugging_face_model(driver, run_name):
    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randint(0, 40, (16, 8)),
                                          torch.randint(0, 3, (16,)))
    model = TinyBert()
    trainer = pl.Trainer(max_epochs=2, callbacks=[SparsetopoCallback(run=run_name)],
                         logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(model, torch.utils.data.DataLoader(data, batch_size=8))
    assert [s["step"] for s in list_snapshots(driver, run_name)] == [0, 2, 4]
    final = read_snapshot(driver, run_name)
    value = "net.bert.encoder.layer.0.attention.self.value.weight"
    torch.testing.assert_close(torch.from_numpy(final.layers[value].to_dense(32, 32)),
                               model.net.bert.encoder.layer[0].attention.self.value.weight
                               .detach().T)
    embedding = final.layers["net.bert.embeddings.word_embeddings.weight"]
    assert len(embedding) == int((model.net.bert.embeddings.word_embeddings.weight != 0).sum())
