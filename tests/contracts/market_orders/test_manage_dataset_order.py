from tests.contracts.market_orders._helpers import DATASET, ManageAssetOrderContract


class TestManageDatasetOrder(ManageAssetOrderContract):
    KIND = DATASET
