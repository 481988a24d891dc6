<?php
$_['heading_title'] = 'Shopbridge';
$_['text_extension'] = 'Extensions';
$_['text_success'] = 'Shopbridge settings saved.';
$_['text_edit'] = 'Shopbridge host';
